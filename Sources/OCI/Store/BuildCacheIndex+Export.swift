import Foundation
import GRDB

extension BuildCacheIndex {
    /// Build-cache records looked up or written at or after `date`: what one build touched (each
    /// lookup marks a record used). `--cache-to` exports these.
    public func cacheRecords(usedSince date: Date) throws -> [CacheRecord] {
        try index.reading { db in
            try Row.fetchAll(db, sql: "SELECT * FROM cache_records WHERE last_used >= ? ORDER BY key",
                             arguments: [date.timeIntervalSince1970]).map { row in
                let layer: String? = row["layer_digest"]
                return CacheRecord(key: try Digest(parsing: row["key"]), layer: try layer.map { try Digest(parsing: $0) }, result: row["result"],
                                   createdAt: Date(timeIntervalSince1970: row["created_at"]),
                                   lastUsed: Date(timeIntervalSince1970: row["last_used"]))
            }
        }
    }
}

/// A cache record that `--cache-to` exported, with when a build of this store last hit it.
public struct CacheExportEntry: Sendable, Equatable {
    /// The record's `CacheKey` digest.
    public var key: Digest
    /// Where it went: the cache's name as `--cache-to` gave it (`127.0.0.1:5000/cache:1`, a directory).
    public var destination: String
    /// Its latest export there.
    public var exportedAt: Date
    /// The build that exported it then.
    public var buildID: String?
    public var layer: Digest?
    /// When a build of this store last hit the record (`touchCacheRecords`), nil: never.
    public var lastHit: Date?

    /// Whether a build of this store hit the record after its latest export to `destination`.
    public var usedSinceExport: Bool { lastHit.map { $0 > exportedAt } ?? false }
}

extension BuildCacheIndex {
    /// Notes that `keys` were exported to `destination` at `date` by build `buildID` (replacing
    /// an earlier export of the same record there): what `cacheExports` reports on.
    public func recordCacheExport(keys: [Digest], destination: String, at date: Date = Date(), buildID: String?) throws {
        if keys.isEmpty { return }
        try index.locked { db in
            let statement = try db.makeStatement(sql: """
                INSERT OR REPLACE INTO cache_exports(key, destination, exported_at, build_id) VALUES (?, ?, ?, ?)
                """)
            for key in Set(keys) {
                try statement.execute(arguments: [key.description, destination, date.timeIntervalSince1970, buildID])
            }
        }
    }

    /// Every exported record the store still holds, newest export first (then by destination
    /// and key); with `unusedOnly`, only those no build of this store hit after their latest
    /// export to that destination. Records removed since (`prune --cache`) are not listed.
    public func cacheExports(unusedOnly: Bool = false) throws -> [CacheExportEntry] {
        try index.reading { db in
            try Row.fetchAll(db, sql: """
                SELECT e.key, e.destination, e.exported_at, e.build_id, r.layer_digest, r.last_hit
                FROM cache_exports e JOIN cache_records r ON r.key = e.key
                \(unusedOnly ? "WHERE r.last_hit IS NULL OR r.last_hit <= e.exported_at" : "")
                ORDER BY e.exported_at DESC, e.destination, e.key
                """).map { row in
                let layer: String? = row["layer_digest"]
                let lastHit: Double? = row["last_hit"]
                return CacheExportEntry(key: try Digest(parsing: row["key"]), destination: row["destination"],
                                        exportedAt: Date(timeIntervalSince1970: row["exported_at"]), buildID: row["build_id"],
                                        layer: try layer.map { try Digest(parsing: $0) },
                                        lastHit: lastHit.map { Date(timeIntervalSince1970: $0) })
            }
        }
    }
}
