import ArgumentParser
import Foundation
import OCI

/// `slipway import ROOTFS.tar[.gz|.zst] [NAME]`: a one-layer image from a root filesystem
/// tarball, like `docker import`.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Create an image from a root filesystem tarball (plain, gzip or zstd; '-' for stdin).")

    @OptionGroup var store: StoreOptions

    @Argument(help: "The tarball.")
    var file: String

    @Argument(help: "Name for the image, e.g. base:1.0.")
    var name: String?

    @Option(help: "Layer compression: gzip (default), zstd or none.")
    var compression: String = "gzip"

    @Option(help: "Platform recorded in the config (default: this machine's).")
    var platform: String?

    @Option(name: .shortAndLong, help: "History comment (default: 'Imported from FILE').")
    var message: String?

    func run() async throws {
        try await reportingErrorsAsync {
            guard let c = LayerCompression(rawValue: compression) else {
                throw ValidationError("--compression must be gzip, zstd or none, not '\(compression)'")
            }
            let tags = try name.map { [try ImageReference(parsing: $0)] } ?? []
            if let t = tags.first, t.digest != nil {
                throw ValidationError("the image name must not contain a digest")
            }
            let p = try platform.map { try Platform(parsing: $0) } ?? Platform.host
            let s = try store.open()
            // SOURCE_DATE_EPOCH makes the import reproducible (same config, same image ID).
            let created = LayerWriter.Options.sourceDateEpochFromEnvironment.map { Date(timeIntervalSince1970: Double($0)) } ?? Date()
            let image = try await ImageArchive.importRootfs(from: file, into: s, tags: tags, compression: c, platform: p, created: created, message: message)
            print(image.id.description)
        }
    }
}
