import ArgumentParser
import Foundation
import Build
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

    /// Where RUN steps (of `build` and `run`) make their overlay mounts and upper directories:
    /// `$SLIPWAY_SCRATCH`, else `<store>/scratch` — on the store's filesystem, so that an upper
    /// directory becomes a layer snapshot by a rename. A RUN that fails while this filesystem
    /// is nearly full says so (`ScratchSpace`).
    static func scratchDirectory(ofStore root: String) -> String {
        if let dir = ProcessInfo.processInfo.environment["SLIPWAY_SCRATCH"], !dir.isEmpty { return dir }
        return root + "/scratch"
    }

    /// Opens the store, turning failures into one clear line, after removing what killed
    /// slipway processes left (mounts, containers, scratch, step secrets: `StaleWork`).
    func open(cleaningStaleWork: Bool = true) throws -> ImageStore {
        let store: ImageStore
        do {
            store = try ImageStore(root: rootPath)
        } catch {
            throw ValidationError("cannot open the image store at \(rootPath): \(error)")
        }
        if cleaningStaleWork { cleanStaleWork(store) }
        return store
    }

    /// `StaleWork.cleanUp` over this store's scratch and `slipway run`'s, and the store's own
    /// temp files of dead processes (`ImageStore.removeDeadTempFiles`); fsck prints the report.
    @discardableResult
    func cleanStaleWork(_ store: ImageStore) -> StaleWork.Report {
        var report = StaleWork.cleanUp(scratchDirectories: [Self.scratchDirectory(ofStore: store.root), RunExecutor.defaultScratchDirectory])
        report.directories += store.removeDeadTempFiles()
        return report
    }
}
