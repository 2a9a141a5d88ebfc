import Foundation
import GRDB

extension ImageStore {
    /// Looks up a build-cache record. A read only (no store lock, no write transaction): a
    /// build looks up every step, so it marks the records it used afterwards in one write
    /// (`touchCacheRecords`). A record whose layer blob is gone (fsck --repair, manual
    /// deletion) is useless and reads as missing; the step that re-runs replaces it.
    public func cacheRecord(key: String) throws -> CacheRecord? {
        try reading { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM cache_records WHERE key = ?", arguments: [key]) else {
                return nil
            }
            let layer: String? = row["layer_digest"]
            if let l = layer, !hasBlob(try Digest(parsing: l)) { return nil }
            return CacheRecord(key: key, layer: try layer.map { try Digest(parsing: $0) }, result: row["result"],
                               createdAt: Date(timeIntervalSince1970: row["created_at"]),
                               lastUsed: Date(timeIntervalSince1970: row["last_used"]))
        }
    }

    /// Marks the cache records `keys` used at `date`, in one transaction (keys with no record
    /// are ignored).
    public func touchCacheRecords(keys: [String], at date: Date = Date()) throws {
        if keys.isEmpty { return }
        try locked { db in
            let statement = try db.makeStatement(sql: "UPDATE cache_records SET last_used = ? WHERE key = ?")
            for key in Set(keys) {
                try statement.execute(arguments: [date.timeIntervalSince1970, key])
            }
        }
    }

    /// Stores (or replaces) a build-cache record. A layer it names must have been recorded with
    /// `recordLayer` (or belong to an image); the record then keeps that layer from collection.
    public func putCacheRecord(_ record: CacheRecord) throws {
        try locked { db in
            if let l = record.layer {
                guard try Bool.fetchOne(db, sql: "SELECT 1 FROM layers WHERE digest = ?", arguments: [l.description]) == true else {
                    throw StoreError.invalid("cache record '\(record.key)': layer \(l) is not recorded in the store")
                }
            }
            try db.execute(sql: """
                INSERT INTO cache_records(key, layer_digest, result, created_at, last_used) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(key) DO UPDATE SET layer_digest = excluded.layer_digest, result = excluded.result,
                    last_used = excluded.last_used
                """, arguments: [record.key, record.layer?.description, record.result,
                                 record.createdAt.timeIntervalSince1970, record.lastUsed.timeIntervalSince1970])
            if let l = record.layer {
                try db.execute(sql: "DELETE FROM leases WHERE digest = ? AND pid = ?", arguments: [l.description, Int64(getpid())])
            }
        }
    }

    /// Deletes cache records last used before `date` (all of them when nil); returns how many.
    @discardableResult
    public func removeCacheRecords(lastUsedBefore date: Date? = nil) throws -> Int {
        try locked { db in
            if let d = date {
                try db.execute(sql: "DELETE FROM cache_records WHERE last_used < ?", arguments: [d.timeIntervalSince1970])
            } else {
                try db.execute(sql: "DELETE FROM cache_records")
            }
            return db.changesCount
        }
    }

    public func cacheRecordCount() throws -> Int {
        try reading { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM cache_records") ?? 0 }
    }
}

#if canImport(Glibc)
import Glibc
#endif
