import ArgumentParser
import Foundation
import OCI

/// `slipway system df`: docker's disk-usage table over the store — images, build cache, RUN
/// cache mounts and unpacked layer snapshots, each with what a prune would free
/// (`ImageStore.diskUsage`). `-v`: one table per kind.
struct SystemCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "system",
        abstract: "Store-wide information (docker's system commands).",
        subcommands: [SystemDiskUsage.self])
}

struct SystemDiskUsage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "df",
        abstract: "Show disk usage: images, build cache, cache mounts, snapshots.",
        discussion: """
            RECLAIMABLE is what a prune frees: images — what `prune` frees (untagged images); build \
            cache — what `builder prune` frees (layers only cache records hold); cache mounts — those \
            not in use; snapshots — those whose layer is gone.
            """)

    @OptionGroup var store: StoreOptions

    @Flag(name: .shortAndLong, help: "Show each image, cache record, cache mount and snapshot.")
    var verbose = false

    func run() throws {
        try reportingErrors {
            let s = try store.open()
            let usage = try s.diskUsage()
            let mounts = store.cacheMounts.entries().map { e in (entry: e, size: store.cacheMounts.size(of: e), inUse: store.cacheMounts.isInUse(e)) }
            let size = StoreFormatting.humanSize
            func reclaimable(_ r: Int64, of total: Int64) -> String {
                total > 0 ? "\(size(r)) (\(Int(100 * Double(r) / Double(total)))%)" : size(r)
            }
            let mountsSize = mounts.reduce(Int64(0)) { $0 + $1.size }
            let mountsFree = mounts.filter { !$0.inUse }.reduce(Int64(0)) { $0 + $1.size }
            let snapSize = usage.snapshots.reduce(Int64(0)) { $0 + $1.size }
            let snapFree = usage.snapshots.filter(\.stale).reduce(Int64(0)) { $0 + $1.size }
            let summary = [
                ["Images", "\(usage.images.count)", "\(usage.images.filter { !$0.image.tags.isEmpty }.count)",
                 size(usage.imagesSize), reclaimable(usage.imagesReclaimable, of: usage.imagesSize)],
                ["Build Cache", "\(usage.cacheRecords.count)", "\(usage.cacheRecords.filter { !$0.reclaimable }.count)",
                 size(usage.cacheSize), reclaimable(usage.cacheReclaimable, of: usage.cacheSize)],
                ["Cache Mounts", "\(mounts.count)", "\(mounts.filter(\.inUse).count)", size(mountsSize), reclaimable(mountsFree, of: mountsSize)],
                ["Snapshots", "\(usage.snapshots.count)", "\(usage.snapshots.filter { !$0.stale }.count)", size(snapSize), reclaimable(snapFree, of: snapSize)],
            ]
            guard verbose else {
                print(StoreFormatting.table(["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"], summary))
                return
            }
            print("Images space usage:\n")
            print(StoreFormatting.table(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE"],
                                        usage.images.flatMap { u in
                let tags: [ImageReference?] = u.image.tags.isEmpty ? [nil] : u.image.tags.sorted { $0.familiar < $1.familiar }
                return tags.map { t in
                    [t?.familiarRepository ?? "<none>", t?.tag ?? "<none>", u.image.id.short, StoreFormatting.since(u.image.createdDate),
                     size(u.size), size(u.sharedSize), size(u.size - u.sharedSize)]
                }
            }))
            print("\nBuild cache usage: \(size(usage.cacheSize))\n")
            print(StoreFormatting.table(["CACHE ID", "SIZE", "CREATED", "LAST USED", "RECLAIMABLE"], usage.cacheRecords.map { r in
                [String(r.record.key.encoded.prefix(12)), size(r.size), StoreFormatting.since(r.record.createdAt),
                 StoreFormatting.since(r.record.lastUsed), r.reclaimable ? "true" : "false"]
            }))
            print("\nCache mounts space usage:\n")
            print(StoreFormatting.table(["ID", "SIZE", "IN USE"], mounts.map { [DisplayText.escaped($0.entry.id), size($0.size), $0.inUse ? "true" : "false"] }))
            print("\nSnapshots space usage:\n")
            print(StoreFormatting.table(["DIFF ID", "SIZE", "STALE"], usage.snapshots.map {
                [String($0.diffID.dropFirst(7).prefix(12)), size($0.size), $0.stale ? "true" : "false"]
            }))
        }
    }
}
