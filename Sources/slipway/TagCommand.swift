import ArgumentParser
import OCI

/// `slipway tag SOURCE TARGET`: gives an image another name.
struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag",
        abstract: "Create a tag TARGET that refers to SOURCE.")

    @OptionGroup var store: StoreOptions

    @Argument(help: "An image name, ID or digest.")
    var source: String

    @Argument(help: "The new name, e.g. app:1.0 or registry.example.com/app:1.0.")
    var target: String

    func run() throws {
        try reportingErrors {
            let s = try store.open()
            let ref = try ImageReference(parsing: target)
            guard ref.digest == nil else {
                throw ValidationError("target '\(target)' must be a name with an optional tag, not a digest")
            }
            try s.tag(try s.resolve(source), as: ref)
        }
    }
}
