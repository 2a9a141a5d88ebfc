import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif
import System

/// What a garbage collection removed.
public struct GarbageReport: Sendable, Equatable {
    public var removedImages: [Digest] = []
    public var removedCacheRecords = 0
    public var removedBlobs: [Digest] = []
    public var freedBytes: Int64 = 0
    public var removedSnapshots = 0
    public var removedTempFiles = 0
}

extension ImageStore {
    /// Removes what nothing needs: blobs not named by an image, a cache record, a layer record
    /// or a live writer's lease; layer records no image or cache record uses; snapshots of
    /// layers no longer recorded; temp files of dead processes. With `danglingImages`, untagged
    /// images go first; with `allImages`, every image (tagged or not) no live process has leased;
    /// with `cache`, all build-cache records do.
    ///
    /// Order (the store's GC invariant): rows are deleted and the files to remove are chosen in
    /// one transaction; blobs and snapshots are removed only after it commits (under the same
    /// lock), so a collection killed at any moment leaves at most unreferenced files.
    @discardableResult
    public func collectGarbage(danglingImages: Bool = false, allImages: Bool = false, cache: Bool = false) throws -> GarbageReport {
        var report = GarbageReport()
        try locked({ db -> (blobs: [String], snapshots: [String], images: [Digest], records: Int) in
            var images: [Digest] = []
            var records = 0
            if danglingImages || allImages {
                try dropDeadLeases(db)
                let unused = allImages ? "manifest_digest NOT IN (SELECT digest FROM leases)"
                                       : "manifest_digest NOT IN (SELECT manifest_digest FROM tags)"
                let rows = try String.fetchAll(db, sql: "SELECT manifest_digest FROM images WHERE \(unused)")
                images = rows.compactMap { try? Digest(parsing: $0) }
                try db.execute(sql: "DELETE FROM tags WHERE manifest_digest IN (SELECT manifest_digest FROM images WHERE \(unused))")
                try db.execute(sql: "DELETE FROM images WHERE \(unused)")
            }
            if cache {
                try db.execute(sql: "DELETE FROM cache_records")
                records = db.changesCount
            }
            try dropDeadLeases(db)
            try db.execute(sql: """
                DELETE FROM layers WHERE digest NOT IN (SELECT layer_digest FROM image_layers)
                  AND digest NOT IN (SELECT layer_digest FROM cache_records WHERE layer_digest IS NOT NULL)
                  AND digest NOT IN (SELECT digest FROM leases)
                """)
            let needed = try neededBlobs(db)
            return (((try? FileSystem.entries(blobsDirectory)) ?? []).filter { !needed.contains($0) }, try staleSnapshots(db), images, records)
        }, afterCommit: { doomed in
            report.removedImages = doomed.images
            report.removedCacheRecords = doomed.records
            for name in doomed.blobs {
                let path = blobsDirectory + "/" + name
                let size = blobSizeAt(path)
                if unlink(path) == 0 {
                    if let d = try? Digest(parsing: "sha256:" + name) { report.removedBlobs.append(d) }
                    report.freedBytes += size
                }
            }
            report.removedTempFiles = removeDeadTempFiles().count
            report.removedSnapshots = removeSnapshots(doomed.snapshots)
        })
        return report
    }

    func blobSizeAt(_ path: String) -> Int64 {
        var st = stat()
        return lstat(path, &st) == 0 ? Int64(st.st_size) : 0
    }

    func dropDeadLeases(_ db: Database) throws {
        for pid in try Int64.fetchAll(db, sql: "SELECT DISTINCT pid FROM leases") where !OwnerProcess.isRunning(Int32(pid)) {
            try db.execute(sql: "DELETE FROM leases WHERE pid = ?", arguments: [pid])
        }
    }

    /// Hex names of every blob the index still needs.
    func neededBlobs(_ db: Database) throws -> Set<String> {
        var needed = Set<String>()
        for sql in ["SELECT manifest_digest FROM images", "SELECT config_digest FROM images",
                    "SELECT layer_digest FROM image_layers", "SELECT digest FROM layers",
                    "SELECT layer_digest FROM cache_records WHERE layer_digest IS NOT NULL", "SELECT digest FROM leases"] {
            for s in try String.fetchAll(db, sql: sql) {
                if let d = try? Digest(parsing: s) { needed.insert(d.encoded) }
            }
        }
        return needed
    }

    /// Removes the temp files and directories (`tmp/<pid>-…`, a partial `snapshots/<pid>-….d`)
    /// of processes that no longer run — what a killed load, import, pull, push or unpack
    /// left — and returns their paths. A live process's are never touched, so this is safe
    /// beside a concurrent command: every command that opens the store runs it.
    @discardableResult
    public func removeDeadTempFiles() -> [String] {
        var removed: [String] = []
        for dir in [tmpDirectory, snapshotsDirectory] {
            for name in ((try? FileSystem.entries(dir)) ?? []) {
                guard let pid = TempName.ownerPID(of: name), !OwnerProcess.isRunning(pid) else { continue }
                if (try? FileSystem.removeTree(dir + "/" + name)) != nil { removed.append(dir + "/" + name) }
            }
        }
        return removed
    }

    /// Names of snapshot directories whose layer is no longer recorded.
    func staleSnapshots(_ db: Database) throws -> [String] {
        let live = Set(try String.fetchAll(db, sql: "SELECT diff_id FROM layers").compactMap { try? Digest(parsing: $0).encoded })
        return ((try? FileSystem.entries(snapshotsDirectory)) ?? []).filter { $0.utf8.count == 64 && !live.contains($0) }
    }

    /// Removes snapshot directories (call after the commit that dropped their layers). Each is
    /// first renamed to a temp name carrying this pid, so a removal cut short by a kill never
    /// leaves a half-emptied `snapshots/<diffID>` that a later unpack would take as complete:
    /// the leftover is a dead process's temp directory, removed by the next collection.
    func removeSnapshots(_ names: [String]) -> Int {
        var n = 0
        for name in names {
            let doomed = TempName.path(in: snapshotsDirectory, suffix: ".d")
            guard rename(snapshotsDirectory + "/" + name, doomed) == 0 else { continue }
            if (try? FileSystem.removeTree(doomed)) != nil { n += 1 }
        }
        return n
    }
}
