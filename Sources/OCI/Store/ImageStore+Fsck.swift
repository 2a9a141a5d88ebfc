import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif
import System

/// The findings of `fsck`. `problems` break the store's promises (a referenced blob missing or
/// corrupt, an unreadable image, a damaged index); `garbage` is only reclaimable space (blobs
/// nothing references, leftovers of killed writers) and leaves the store valid.
/// Thrown at the end of a dry run's transaction so that it rolls back.
private struct FsckDryRun: Error {}

public struct FsckReport: Sendable {
    public var checkedBlobs = 0
    public var checkedImages = 0
    public var problems: [String] = []
    public var garbage: [String] = []
    /// What `--repair` did (or, with `--dry-run`, would do).
    public var repairs: [String] = []
    /// The tags of the images `--repair` removed (or would remove).
    public var removedTags: [String] = []
    public var isValid: Bool { problems.isEmpty }
}

extension ImageStore {
    /// Re-verifies every blob against its name and every index row against the blobs. With
    /// `repair`, removes corrupt blobs, images whose content is missing or corrupt, cache
    /// records without their layer, and all garbage; the report then lists what was done and
    /// the problems that remain (none, unless the index itself is damaged).
    /// Repairs that remove files run after the index changes commit (see `collectGarbage`).
    ///
    /// `dryRun` (with `repair`): does every repair inside the index transaction, reports it as
    /// "would remove …", and rolls the transaction back; no file is touched.
    public func fsck(repair: Bool = false, dryRun: Bool = false) throws -> FsckReport {
        var report = FsckReport()
        let repair = repair || dryRun
        /// The verb of a repair line: what was done, or what would be.
        let removed = dryRun ? "would remove" : "removed"
        /// Files to remove once the transaction has committed, with the repair to report.
        var removals: [(path: String, tree: Bool, done: String)] = []
        var staleSnapshotNames: [String] = []
        do {
        try locked({ db in
            for row in try String.fetchAll(db, sql: "PRAGMA integrity_check") where row != "ok" {
                report.problems.append("index: \(row)")
            }
            for row in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check") {
                report.problems.append("index: dangling reference in table \(row[0] as String? ?? "?")")
            }

            // 1. Every blob hashes to its name.
            var present = Set<String>()
            var corrupt = Set<String>()
            for name in ((try? FileSystem.entries(blobsDirectory)) ?? []) {
                let path = blobsDirectory + "/" + name
                report.checkedBlobs += 1
                guard name.utf8.count == 64, name.utf8.allSatisfy(ImageReference.isLowerHex) else {
                    report.garbage.append("stray file \(path)")
                    if repair { removals.append((path, true, "\(removed) stray file \(path)")) }
                    continue
                }
                let actual = try? Self.hashFile(path)
                if actual?.encoded == name {
                    present.insert(name)
                } else {
                    corrupt.insert(name)
                    report.problems.append("blob sha256:\(name) is corrupt (content hashes to \(actual?.description ?? "unreadable"))")
                    if repair { removals.append((path, false, "\(removed) corrupt blob sha256:\(name)")) }
                }
            }

            // 2. Every image's manifest, config and layers are present and agree.
            var broken: [String] = []
            for row in try Row.fetchAll(db, sql: "SELECT manifest_digest, config_digest FROM images") {
                report.checkedImages += 1
                let md: String = row["manifest_digest"]
                let cd: String = row["config_digest"]
                if let issue = try checkImage(db, manifest: md, config: cd, present: present) {
                    report.problems.append("image \(md): \(issue)")
                    broken.append(md)
                }
            }
            for row in try Row.fetchAll(db, sql: "SELECT digest FROM layers") {
                let d: String = row["digest"]
                if !present.contains(String(d.dropFirst(7))) {
                    let users = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM image_layers WHERE layer_digest = ?", arguments: [d]) ?? 0
                        + (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM cache_records WHERE layer_digest = ?", arguments: [d]) ?? 0)
                    if users > 0 { report.problems.append("layer \(d) is recorded but its blob is missing") }
                }
            }
            let badCache = try String.fetchAll(db, sql: "SELECT key FROM cache_records WHERE layer_digest IS NOT NULL")
                .filter { key in
                    let l = (try? String.fetchOne(db, sql: "SELECT layer_digest FROM cache_records WHERE key = ?", arguments: [key])) ?? nil
                    return !(l.map { present.contains(String($0.dropFirst(7))) } ?? true)
                }
            for key in badCache { report.problems.append("cache record \(key) names a missing layer") }

            if repair {
                for md in broken {
                    // Name what the user loses: the tags go with the image.
                    let tags = try String.fetchAll(db, sql: "SELECT reference FROM tags WHERE manifest_digest = ? ORDER BY reference", arguments: [md])
                    try db.execute(sql: "DELETE FROM images WHERE manifest_digest = ?", arguments: [md])
                    let named = tags.isEmpty ? "untagged" : "tags " + tags.map { (try? ImageReference(parsing: $0))?.familiar ?? $0 }.joined(separator: ", ")
                    report.repairs.append("\(removed) image \(md) (\(named); its content is missing or corrupt)")
                    for t in tags { report.removedTags.append((try? ImageReference(parsing: t))?.familiar ?? t) }
                }
                for key in badCache {
                    try db.execute(sql: "DELETE FROM cache_records WHERE key = ?", arguments: [key])
                    report.repairs.append("\(removed) cache record \(key)")
                }
                for d in try String.fetchAll(db, sql: "SELECT digest FROM layers") where !present.contains(String(d.dropFirst(7))) {
                    try db.execute(sql: "DELETE FROM image_layers WHERE layer_digest = ?", arguments: [d])
                    try db.execute(sql: "DELETE FROM layers WHERE digest = ?", arguments: [d])
                }
                // Problems fixed above are no longer problems; re-check what remains.
                if !dryRun { report.problems = report.problems.filter { $0.hasPrefix("index:") } }
            }

            // 3. Garbage: unreferenced blobs, dead leases, leftovers of killed processes.
            try dropDeadLeasesCounting(db, report: &report, repair: repair, dryRun: dryRun)
            let needed = try neededBlobs(db)
            for name in present.subtracting(needed).sorted() {
                report.garbage.append("unreferenced blob sha256:\(name)")
                if repair { removals.append((blobsDirectory + "/" + name, false, "\(removed) unreferenced blob sha256:\(name)")) }
            }
            for dir in [tmpDirectory, snapshotsDirectory] {
                for name in ((try? FileSystem.entries(dir)) ?? []) {
                    guard let pid = TempName.ownerPID(of: name), !OwnerProcess.isRunning(pid) else { continue }
                    report.garbage.append("leftover \(dir)/\(name) of a stopped process")
                    if repair { removals.append((dir + "/" + name, true, "\(removed) \(dir)/\(name)")) }
                }
            }
            if repair { staleSnapshotNames = try staleSnapshots(db) }
            if dryRun { throw FsckDryRun() }
        }, afterCommit: { _ in
            for r in removals {
                let ok = r.tree ? (try? FileSystem.removeTree(r.path)) != nil : unlink(r.path) == 0
                if ok { report.repairs.append(r.done) }
            }
            let n = removeSnapshots(staleSnapshotNames)
            if n > 0 { report.repairs.append("removed \(n) stale snapshots") }
        })
        } catch is FsckDryRun {
            // Rolled back: say what the files' removal would be.
            report.repairs += removals.map(\.done)
            if !staleSnapshotNames.isEmpty { report.repairs.append("would remove \(staleSnapshotNames.count) stale snapshots") }
        }
        return report
    }

    private func repairVerb(dryRun: Bool, _ done: String) -> String { dryRun ? "would drop" : done }

    private func dropDeadLeasesCounting(_ db: Database, report: inout FsckReport, repair: Bool, dryRun: Bool) throws {
        for pid in try Int64.fetchAll(db, sql: "SELECT DISTINCT pid FROM leases") where !OwnerProcess.isRunning(Int32(pid)) {
            report.garbage.append("stale leases of stopped process \(pid)")
            if repair {
                try db.execute(sql: "DELETE FROM leases WHERE pid = ?", arguments: [pid])
                report.repairs.append("\(repairVerb(dryRun: dryRun, "dropped")) stale leases of process \(pid)")
            }
        }
    }

    /// Why an image is unusable, or nil when it is fine.
    private func checkImage(_ db: Database, manifest md: String, config cd: String, present: Set<String>) throws -> String? {
        guard let mdg = try? Digest(parsing: md), present.contains(mdg.encoded) else { return "manifest blob missing or corrupt" }
        guard let bytes = try? FileIO.readFile(content.blobPath(mdg)) else { return "manifest unreadable" }
        let manifest: ImageManifest
        do { manifest = try ImageManifest.decode(bytes) } catch { return "\(error)" }
        guard manifest.config.digest.description == cd else { return "index says config \(cd), manifest says \(manifest.config.digest)" }
        guard present.contains(manifest.config.digest.encoded) else { return "config blob \(cd) missing or corrupt" }
        let config: ImageConfig
        do { config = try ImageConfig.decode(try StoreError.wrapping { try FileIO.readFile(content.blobPath(manifest.config.digest)) }) } catch { return "\(error)" }
        let recorded = try String.fetchAll(db, sql: "SELECT layer_digest FROM image_layers WHERE manifest_digest = ? ORDER BY position", arguments: [md])
        guard recorded == manifest.layers.map(\.digest.description) else { return "index layer list differs from the manifest" }
        for (i, layer) in manifest.layers.enumerated() {
            guard present.contains(layer.digest.encoded) else { return "layer blob \(layer.digest) missing or corrupt" }
            let diff = try String.fetchOne(db, sql: "SELECT diff_id FROM layers WHERE digest = ?", arguments: [layer.digest.description])
            guard i < config.rootfs.diffIDs.count, diff == config.rootfs.diffIDs[i].description else {
                return "layer \(layer.digest) diff_id does not match the config"
            }
        }
        return nil
    }

    /// Streams a file through SHA-256.
    static func hashFile(_ path: String) throws -> Digest {
        var hasher = SHA256Hasher()
        try StoreError.wrapping { try FileIO.forEachChunk(ofFile: path) { hasher.update($0) } }
        return hasher.finalize()
    }
}
