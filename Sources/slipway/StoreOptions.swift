import ArgumentParser
import OCI

/// `--root DIR`: where the local image store lives. Every command that reads or writes images
/// includes this group with `@OptionGroup var store: StoreOptions`.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Store directory (default: $SLIPWAY_ROOT, else /var/lib/slipway as root, else $XDG_DATA_HOME/slipway).",
        valueName: "dir"))
    var root: String?

    /// The resolved store directory.
    var rootPath: String { root ?? ImageStore.defaultRoot() }

    /// Opens the store, turning failures into one clear line.
    func open() throws -> ImageStore {
        do {
            return try ImageStore(root: rootPath)
        } catch {
            throw ValidationError("cannot open the image store at \(rootPath): \(error)")
        }
    }
}
