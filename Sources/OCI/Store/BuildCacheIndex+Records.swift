import Foundation
import GRDB

extension BuildCacheIndex {
    /// Looks up a build-cache record. A read only (no store lock, no write transaction): a
    /// build looks up every step, so it marks the records it used afterwards in one write
    /// (`touchCacheRecords`). A record whose layer blob is gone (fsck --repair, manual
    /// deletion) is useless and reads as missing; the step that re-runs replaces it.
    public func cacheRecord(key: Digest) throws -> CacheRecord? {
        try index.reading { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM cache_records WHERE key = ?", arguments: [key.description]) else {
                return nil
            }
            let layer: String? = row["layer_digest"]
            if let l = layer, !content.hasBlob(try Digest(parsing: l)) { return nil }
            return CacheRecord(key: key, layer: try layer.map { try Digest(parsing: $0) }, result: row["result"],
                               createdAt: Date(timeIntervalSince1970: row["created_at"]),
                               lastUsed: Date(timeIntervalSince1970: row["last_used"]), origin: row["origin"])
        }
    }

    /// Marks the cache records `keys` used — hit by a build — at `date`, in one transaction
    /// (keys with no record are ignored). Sets `last_hit` as well as `last_used`: only a hit
    /// counts as a use of an exported record (`unusedExports`).
    public func touchCacheRecords(keys: [Digest], at date: Date = Date()) throws {
        if keys.isEmpty { return }
        try index.locked { db in
            let statement = try db.makeStatement(sql: "UPDATE cache_records SET last_used = ?1, last_hit = ?1 WHERE key = ?2")
            for key in Set(keys) {
                try statement.execute(arguments: [date.timeIntervalSince1970, key.description])
            }
        }
    }

    /// Stores a build-cache record. The first record for a key wins: a usable record (no layer,
    /// or a layer whose blob is present) is never replaced, only marked used, so a re-run of a
    /// step that produced other bytes (a `--no-cache` build, two builds at once) can never swap
    /// the result that later records were built on. A record whose layer blob is gone is
    /// replaced. A layer it names must have been recorded with `recordLayer` (or belong to an
    /// image); the record then keeps that layer from collection.
    public func putCacheRecord(_ record: CacheRecord) throws {
        try index.locked { db in
            if let l = record.layer {
                guard try Bool.fetchOne(db, sql: "SELECT 1 FROM layers WHERE digest = ?", arguments: [l.description]) == true else {
                    throw StoreError.invalid("cache record '\(record.key)': layer \(l) is not recorded in the store")
                }
            }
            let key = record.key.description
            if let existing = try Row.fetchOne(db, sql: "SELECT layer_digest FROM cache_records WHERE key = ?", arguments: [key]) {
                let layer: String? = existing["layer_digest"]
                let usable = try layer.map { content.hasBlob(try Digest(parsing: $0)) } ?? true
                if usable {
                    try db.execute(sql: "UPDATE cache_records SET last_used = ? WHERE key = ?",
                                   arguments: [record.lastUsed.timeIntervalSince1970, key])
                    return
                }
            }
            try db.execute(sql: """
                INSERT INTO cache_records(key, layer_digest, result, created_at, last_used, origin) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(key) DO UPDATE SET layer_digest = excluded.layer_digest, result = excluded.result,
                    last_used = excluded.last_used, origin = excluded.origin
                """, arguments: [key, record.layer?.description, record.result,
                                 record.createdAt.timeIntervalSince1970, record.lastUsed.timeIntervalSince1970, record.origin])
            // The writer's lease on the layer stays until it exits: a `prune --cache` that drops
            // this record while the build still runs must not take the layer from under it.
        }
    }

    /// Deletes cache records last used before `date` (all of them when nil); returns how many.
    @discardableResult
    public func removeCacheRecords(lastUsedBefore date: Date? = nil) throws -> Int {
        try index.locked { db in
            if let d = date {
                try db.execute(sql: "DELETE FROM cache_records WHERE last_used < ?", arguments: [d.timeIntervalSince1970])
            } else {
                try db.execute(sql: "DELETE FROM cache_records")
            }
            let removed = db.changesCount
            // What was exported of them is no longer anything to report on.
            try db.execute(sql: "DELETE FROM cache_exports WHERE key NOT IN (SELECT key FROM cache_records)")
            return removed
        }
    }

    public func cacheRecordCount() throws -> Int {
        try index.reading { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM cache_records") ?? 0 }
    }
}

#if canImport(Glibc)
import Glibc
#endif
