import ArgumentParser
import Foundation
import OCI
import Registry

/// `slipway push IMAGE [DEST]`: uploads a stored image to a registry.
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Upload an image from the local store to a registry.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var registryOptions: RegistryOptions

    @Flag(name: [.short, .long], help: "Print only the pushed digest.")
    var quiet = false

    @Argument(help: "The stored image (name, ID or digest).")
    var image: String

    @Argument(help: "Where to push it (default: IMAGE's own name), e.g. 127.0.0.1:5000/app:1.0.")
    var destination: String?

    func run() async throws {
        try await reportingErrorsAsync {
            let s = try store.open()
            let dest = try destination.map { try ImageReference(parsing: $0) }
            if dest == nil, (try? ImageReference(parsing: image)) == nil {
                throw ValidationError("'\(image)' is not a name; give a destination: slipway push \(image) REGISTRY/REPO:TAG")
            }
            var progress: (@Sendable (String) -> Void)?
            if !quiet { progress = { line in printLine(line) } }
            let transfer = ImageTransfer(access: registryOptions.access, progress: progress)
            let result = try await transfer.push(image, to: dest, from: s)
            printLine(quiet ? result.manifestDigest.description
                            : "Pushed \(result.reference.description) (\(result.uploadedBlobs) uploaded, \(result.mountedBlobs) mounted, \(result.skippedBlobs) already present)")
        }
    }
}
