import ArgumentParser
import OCI

/// `slipway prune` (and `image prune`): removes untagged images (`-a`: every image no running
/// command uses) and every blob nothing needs, after docker's confirmation question
/// (`Confirmation`; `-f` skips it).
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove untagged images, unreferenced blobs and leftovers of interrupted writes.")

    @OptionGroup var store: StoreOptions

    @Flag(name: .shortAndLong, help: "Remove all images no running build or run uses, not just untagged ones.")
    var all = false

    @Flag(name: .shortAndLong, help: "Do not ask for confirmation.")
    var force = false

    @Flag(help: "Also remove all build-cache records (and the layers only they kept).")
    var cache = false

    @Flag(name: .customLong("cache-mounts"), help: "Also remove RUN --mount=type=cache directories not in use.")
    var cacheMounts = false

    func run() throws {
        try reportingErrors {
            let s = try store.open()
            var what = all ? "all images no running build or run uses" : "all untagged images"
            if cache { what += ", all build cache" }
            if cacheMounts { what += ", all cache mounts not in use" }
            try Confirmation.ask("This will remove \(what).", force: force)
            let report = try s.collectGarbage(danglingImages: true, allImages: all, cache: cache)
            for d in report.removedImages { print("Deleted image: \(d)") }
            if cache { print("Deleted build-cache records: \(report.removedCacheRecords)") }
            print("Deleted blobs: \(report.removedBlobs.count), snapshots: \(report.removedSnapshots), temp files: \(report.removedTempFiles)")
            if cacheMounts { print("Deleted cache mounts: \(store.cacheMounts.prune().count)") }
            print("Total reclaimed space: \(StoreFormatting.humanSize(report.freedBytes))")
        }
    }
}
