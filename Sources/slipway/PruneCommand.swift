import ArgumentParser
import OCI

/// `slipway prune`: removes untagged images and every blob nothing needs.
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove untagged images, unreferenced blobs and leftovers of interrupted writes.")

    @OptionGroup var store: StoreOptions

    @Flag(help: "Also remove all build-cache records (and the layers only they kept).")
    var cache = false

    @Flag(name: .customLong("cache-mounts"), help: "Also remove RUN --mount=type=cache directories not in use.")
    var cacheMounts = false

    func run() throws {
        try reportingErrors {
            let s = try store.open()
            let report = try s.collectGarbage(danglingImages: true, cache: cache)
            for d in report.removedImages { print("Deleted image: \(d)") }
            if cache { print("Deleted build-cache records: \(report.removedCacheRecords)") }
            print("Deleted blobs: \(report.removedBlobs.count), snapshots: \(report.removedSnapshots), temp files: \(report.removedTempFiles)")
            if cacheMounts { print("Deleted cache mounts: \(store.cacheMounts.prune().count)") }
            print("Total reclaimed space: \(StoreFormatting.humanSize(report.freedBytes))")
        }
    }
}
