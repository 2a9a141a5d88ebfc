import ArgumentParser
import Foundation
import OCI

/// `slipway load [-i FILE]`: OCI archives and docker-archives (old and new layouts); standard
/// input without `-i` (`docker load < x.tar`), unless it is a terminal.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load images from a tar archive (OCI image layout or docker-archive, optionally compressed).")

    @OptionGroup var store: StoreOptions

    @Option(name: .shortAndLong, help: "The archive to read ('-' or none: standard input, unless it is a terminal).")
    var input: String = "-"

    @Option(name: .shortAndLong, help: "Name the loaded image (when the archive holds one image).")
    var tag: String?

    func run() async throws {
        try await reportingErrorsAsync {
            let extra = try tag.map { try ImageReference(parsing: $0) }
            if input == "-" && isatty(0) == 1 {
                throw ValidationError("no archive to load: give -i FILE or redirect standard input (slipway load < FILE)")
            }
            let s = try store.open()
            let loaded = try await ImageArchive.load(input, into: s)
            if let t = extra {
                guard loaded.count == 1, let only = loaded.first else {
                    throw ValidationError("--tag needs an archive with one image; this one has \(loaded.count)")
                }
                try s.tag(only.image, as: t)
                print("Loaded image: \(t.familiar)")
            }
            for l in loaded {
                if l.names.isEmpty {
                    if extra == nil { print("Loaded image ID: \(l.image.id)") }
                } else {
                    for n in l.names { print("Loaded image: \(n.familiar)") }
                }
            }
        }
    }
}
