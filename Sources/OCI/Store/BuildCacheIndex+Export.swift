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
