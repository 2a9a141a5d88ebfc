import ArgumentParser
import Foundation
import OCI

/// `slipway save [-o FILE] [--format oci|docker] IMAGE...`: to standard output without `-o`
/// (`docker save IMG > x.tar`), never to a terminal.
struct SaveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "save",
        abstract: "Save images to a tar archive (OCI image layout, or docker-archive with --format docker).")

    @OptionGroup var store: StoreOptions

    @Option(name: .shortAndLong, help: "The archive to write ('-' or none: standard output, unless it is a terminal). A device, FIFO or symlink is written through; a regular file is replaced atomically.")
    var output: String = "-"

    @Option(help: "Archive format: oci (default) or docker.")
    var format: String = "oci"

    @Argument(help: "Image names, IDs or digests.")
    var images: [String]

    func run() async throws {
        try await reportingErrorsAsync {
            guard let f = ManifestFormat(rawValue: format) else {
                throw ValidationError("--format must be oci or docker, not '\(format)'")
            }
            guard !images.isEmpty else { throw ValidationError("save needs at least one image") }
            if output == "-" && isatty(1) == 1 {
                throw ValidationError("refusing to write an archive to a terminal: give -o FILE or redirect standard output (slipway save IMAGE > FILE)")
            }
            let s = try store.open()
            var requests: [SaveRequest] = []
            for name in images {
                let image = try s.resolve(name)
                // Named by a tag: keep that name; by ID or digest: no name, as docker save does.
                var names: [ImageReference] = []
                if let ref = try? ImageReference(parsing: name), ref.digest == nil, image.tags.contains(ref) {
                    names = [ref]
                }
                if let i = requests.firstIndex(where: { $0.image.manifestDigest == image.manifestDigest }) {
                    requests[i].names += names.filter { !requests[i].names.contains($0) }
                } else {
                    requests.append(SaveRequest(image: image, names: names))
                }
            }
            try await ImageArchive.save(requests, from: s, format: f, to: output)
        }
    }
}
