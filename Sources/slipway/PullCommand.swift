import ArgumentParser
import Foundation
import OCI
import Registry

/// `slipway pull IMAGE`: downloads an image (one platform of an index) into the store.
struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Download an image from a registry into the local store.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var registryOptions: RegistryOptions

    @Option(help: ArgumentHelp("Platform to pull from a multi-platform image (default: this machine's).",
                               valueName: "os/arch[/variant]"))
    var platform: String?

    @Flag(name: [.short, .long], help: "Print only the image reference at the end.")
    var quiet = false

    @Argument(help: "The image, e.g. alpine:3.20, ghcr.io/org/app@sha256:..., 127.0.0.1:5000/app.")
    var image: String

    func run() async throws {
        try await reportingErrorsAsync {
            let reference = try ImageReference(parsing: image)
            let chosen = try platform.map { try Platform(parsing: $0) }
            let s = try store.open()
            var progress: (@Sendable (String) -> Void)?
            if !quiet { progress = { line in printLine(line) } }
            let transfer = ImageTransfer(access: registryOptions.access, progress: progress)
            let result = try await transfer.pull(reference, into: s, platform: chosen)
            if !quiet {
                printLine("Digest: \(result.manifestDigest)")
                printLine(result.fetchedBlobs == 0
                          ? "Status: Image is up to date for \(reference.familiar)"
                          : "Status: Downloaded newer image for \(reference.familiar) (\(ByteCount.format(result.downloadedBytes)))")
            }
            printLine(reference.description)
        }
    }
}
