import ArgumentParser
import Dockerfile
import Foundation
import OCI

/// `slipway builder prune`: docker's `builder prune` — removes the build cache (every build-cache
/// record, the layers only they kept, and the RUN cache mounts not in use). Images stay.
struct BuilderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "builder",
        abstract: "Manage the build cache (docker's builder commands).",
        subcommands: [BuilderPrune.self])
}

struct BuilderPrune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove the build cache: build-cache records, the layers only they kept, unused cache mounts.",
        discussion: "With --filter until= or --keep-storage only build-cache records are chosen (least recently used first); cache mounts stay.")

    @OptionGroup var store: StoreOptions

    @Flag(name: .shortAndLong, help: "Do not ask for confirmation.")
    var force = false

    @Flag(name: .shortAndLong, help: "Accepted for docker compatibility: all build cache is removed either way.")
    var all = false

    @Option(help: ArgumentHelp("until=DURATION: only cache not used for that long (Go duration: 24h, 90m).", valueName: "filter"))
    var filter: [String] = []

    @Option(name: .customLong("keep-storage"), help: ArgumentHelp("Keep the most recently used build cache up to this size (e.g. 512MB, 10GB; binary units as docker's).", valueName: "size"))
    var keepStorage: String?

    func run() throws {
        try reportingErrors {
            var until: TimeInterval?
            var untilText = ""
            for f in filter {
                guard f.hasPrefix("until="), let ns = Validation.parseDuration(String(f.dropFirst(6))), ns >= 0 else {
                    throw ValidationError("bad filter '\(f)': builder prune filters on until=DURATION (e.g. until=24h)")
                }
                until = Double(ns) / 1e9
                untilText = String(f.dropFirst(6))
            }
            var keep: Int64?
            if let keepStorage {
                guard let n = ByteCount.parse(keepStorage) else {
                    throw ValidationError("bad --keep-storage '\(keepStorage)': give a size such as 512MB or 10GB")
                }
                keep = n
            }
            let s = try store.open()
            if until == nil && keep == nil {
                try Confirmation.ask("This will remove all build cache.", force: force)
                let report = try s.collectGarbage(danglingImages: false, cache: true)
                print("Deleted build-cache records: \(report.removedCacheRecords)")
                print("Deleted blobs: \(report.removedBlobs.count), snapshots: \(report.removedSnapshots)")
                print("Deleted cache mounts: \(store.cacheMounts.prune().count)")
                print("Total reclaimed space: \(StoreFormatting.humanSize(report.freedBytes))")
                return
            }
            try Confirmation.ask("This will remove build cache" + (until == nil ? "" : " not used for \(untilText)")
                                 + (keep.map { (until == nil ? "" : ",") + " beyond the most recently used \(StoreFormatting.humanSize($0))" } ?? "") + ".",
                                 force: force)
            let doomed = Self.choose(try s.diskUsage().cacheRecords, until: until, keep: keep, now: Date())
            let removed = try s.buildCache.removeCacheRecords(keys: doomed)
            let report = try s.collectGarbage()
            print("Deleted build-cache records: \(removed)")
            print("Deleted blobs: \(report.removedBlobs.count), snapshots: \(report.removedSnapshots)")
            print("Total reclaimed space: \(StoreFormatting.humanSize(report.freedBytes))")
        }
    }

    /// The records to remove: those not used within `until`, then, newest first, every record
    /// once the bytes that only the kept records hold would pass `keep` (BuildKit's keep-storage).
    static func choose(_ records: [DiskUsage.CacheRecordUsage], until: TimeInterval?, keep: Int64?, now: Date) -> [Digest] {
        var doomed: [Digest] = []
        var kept = Int64(0)
        var keptLayers = Set<Digest>()
        for r in records.sorted(by: { $0.record.lastUsed > $1.record.lastUsed }) {
            if let until, now.timeIntervalSince(r.record.lastUsed) > until { doomed.append(r.record.key); continue }
            guard let keep else { continue }
            var adds = Int64(0)
            if r.reclaimable, let layer = r.record.layer, !keptLayers.contains(layer) { adds = r.size }
            if kept + adds > keep { doomed.append(r.record.key); continue }
            kept += adds
            if let layer = r.record.layer { keptLayers.insert(layer) }
        }
        return doomed
    }
}
