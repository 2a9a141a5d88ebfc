import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif
import System

/// What `slipway system df` shows: bytes on disk by kind, and what a prune would free.
public struct DiskUsage: Sendable {
    public struct Image: Sendable {
        public var image: StoredImage
        /// Stored bytes of its blobs (manifest, config, layers as stored).
        public var size: Int64
        /// Of those, the bytes of layers another image or a cache record also holds.
        public var sharedSize: Int64
    }

    public struct CacheRecordUsage: Sendable {
        public var record: CacheRecord
        /// The stored size of its layer (0 for config-only steps).
        public var size: Int64
        /// Whether the layer is kept only by build-cache records (`builder prune` frees it).
        public var reclaimable: Bool
    }

    public struct Snapshot: Sendable {
        public var diffID: String
        public var size: Int64
        /// Its layer is no longer recorded (the next collection removes it).
        public var stale: Bool
    }

    public var images: [Image] = []
    /// Distinct stored bytes of every image's blobs.
    public var imagesSize: Int64 = 0
    /// What `prune` frees: blobs only untagged images hold.
    public var imagesReclaimable: Int64 = 0
    public var cacheRecords: [CacheRecordUsage] = []
    /// Distinct stored bytes of the layers cache records hold.
    public var cacheSize: Int64 = 0
    /// What `builder prune` frees: layers only cache records hold.
    public var cacheReclaimable: Int64 = 0
    public var snapshots: [Snapshot] = []
}

extension ImageStore {
    /// Disk usage of the images, build cache and unpacked snapshots (`system df`), from the
    /// index plus the snapshot directories' sizes.
    public func diskUsage() throws -> DiskUsage {
        var usage = DiskUsage()
        let all = try images()
        let records = try buildCache.cacheRecords(usedSince: .distantPast)
        try reading { db in
            var layerSize: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT digest, size FROM layers") {
                layerSize[row["digest"]] = row["size"]
            }
            // Who holds each layer: images (tagged or not) and cache records.
            var holders: [String: (tagged: Int, untagged: Int, cache: Int)] = [:]
            var layersOf: [String: [String]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT manifest_digest, layer_digest FROM image_layers") {
                layersOf[row["manifest_digest"], default: []].append(row["layer_digest"])
            }
            let tagged = Set(all.filter { !$0.tags.isEmpty }.map(\.manifestDigest.description))
            for image in all {
                for layer in Set(layersOf[image.manifestDigest.description] ?? []) {
                    let isTagged = tagged.contains(image.manifestDigest.description)
                    var h = holders[layer] ?? (0, 0, 0)
                    if isTagged { h.tagged += 1 } else { h.untagged += 1 }
                    holders[layer] = h
                }
            }
            for r in records {
                guard let l = r.layer?.description else { continue }
                var h = holders[l] ?? (0, 0, 0)
                h.cache += 1
                holders[l] = h
            }
            var counted = Set<String>()
            for image in all {
                let layers = Set(layersOf[image.manifestDigest.description] ?? [])
                let layerBytes = layers.reduce(Int64(0)) { $0 + (layerSize[$1] ?? 0) }
                let own = image.storedSize - layers.reduce(Int64(0)) { $0 + (layerSize[$1] ?? 0) }   // manifest + config
                let shared = layers.filter { l in holders[l].map { $0.tagged + $0.untagged + $0.cache > 1 } ?? false }
                    .reduce(Int64(0)) { $0 + (layerSize[$1] ?? 0) }
                usage.images.append(.init(image: image, size: own + layerBytes, sharedSize: shared))
                usage.imagesSize += own
                if image.tags.isEmpty { usage.imagesReclaimable += own }
                for l in layers where counted.insert(l).inserted {
                    usage.imagesSize += layerSize[l] ?? 0
                    if let h = holders[l], h.tagged == 0, h.cache == 0 { usage.imagesReclaimable += layerSize[l] ?? 0 }
                }
            }
            var cacheCounted = Set<String>()
            for r in records {
                let l = r.layer?.description
                let size = l.flatMap { layerSize[$0] } ?? 0
                let onlyCache = l.map { (holders[$0]?.tagged ?? 0) + (holders[$0]?.untagged ?? 0) == 0 } ?? true
                usage.cacheRecords.append(.init(record: r, size: size, reclaimable: onlyCache))
                if let l, cacheCounted.insert(l).inserted {
                    usage.cacheSize += size
                    if onlyCache { usage.cacheReclaimable += size }
                }
            }
            let live = Set(try String.fetchAll(db, sql: "SELECT diff_id FROM layers").compactMap { try? Digest(parsing: $0).encoded })
            for name in ((try? FileSystem.entries(snapshotsDirectory)) ?? []).sorted() where name.utf8.count == 64 {
                usage.snapshots.append(.init(diffID: "sha256:" + name, size: Self.treeBytes(snapshotsDirectory + "/" + name),
                                             stale: !live.contains(name)))
            }
        }
        return usage
    }

    /// Apparent bytes of the regular files and symlinks under `path` (each hard-linked inode
    /// once), not following symlinks; 0 for what cannot be read.
    public static func treeBytes(_ path: String) -> Int64 {
        var seen = Set<[UInt64]>()
        func walk(_ p: String) -> Int64 {
            var st = stat()
            guard lstat(p, &st) == 0 else { return 0 }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                return ((try? FileSystem.entries(p)) ?? []).reduce(Int64(0)) { $0 + walk(p + "/" + $1) }
            case S_IFREG, S_IFLNK:
                if st.st_nlink > 1, !seen.insert([UInt64(st.st_dev), UInt64(st.st_ino)]).inserted { return 0 }
                return Int64(st.st_size)
            default:
                return 0
            }
        }
        return walk(path)
    }
}

extension BuildCacheIndex {
    /// Deletes the cache records with these keys; returns how many there were.
    @discardableResult
    public func removeCacheRecords(keys: [Digest]) throws -> Int {
        try index.locked { db in
            var n = 0
            for key in keys {
                try db.execute(sql: "DELETE FROM cache_records WHERE key = ?", arguments: [key.description])
                n += db.changesCount
            }
            return n
        }
    }
}
