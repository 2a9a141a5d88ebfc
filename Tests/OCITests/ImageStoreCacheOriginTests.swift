import Foundation
import Testing
@testable import OCI

/// Where a cache record came from (`origin`, migration `v4-cache-origin`), when builds hit it
/// (`last_hit`), and what `--cache-to` exported (`cache_exports`).
@Suite struct ImageStoreCacheOriginTests {
    @Test func originIsKeptAndTheFirstRecordWins() throws {
        let t = try TempStore()
        let img = try t.makeImage(layers: ["base"], tags: ["c:1"])
        try t.store.buildCache.putCacheRecord(CacheRecord(key: .sha256("local"), layer: img.layers[0], result: "{}"))
        try t.store.buildCache.putCacheRecord(CacheRecord(key: .sha256("imported"), layer: img.layers[0], result: "{}", origin: "reg/cache:1"))
        // An import of a key this store already built leaves the local record (and its origin) alone.
        try t.store.buildCache.putCacheRecord(CacheRecord(key: .sha256("local"), layer: img.layers[0], result: "{}", origin: "reg/cache:1"))
        #expect(try t.store.buildCache.cacheRecord(key: .sha256("local"))?.origin == nil)
        #expect(try t.store.buildCache.cacheRecord(key: .sha256("imported"))?.origin == "reg/cache:1")
    }

    @Test func unusedExportsAreThoseNotHitAfterTheirLatestExport() throws {
        let t = try TempStore()
        let img = try t.makeImage(layers: ["base"], tags: ["c:1"])
        for k in ["a", "b"] { try t.store.buildCache.putCacheRecord(CacheRecord(key: .sha256(k), layer: img.layers[0], result: "{}")) }
        let hitBefore = Date(timeIntervalSince1970: 1_000)
        try t.store.buildCache.touchCacheRecords(keys: [.sha256("a"), .sha256("b")], at: hitBefore)
        try t.store.buildCache.recordCacheExport(keys: [.sha256("a"), .sha256("b")], destination: "dir", at: Date(timeIntervalSince1970: 2_000), buildID: "b1")
        #expect(Set(try t.store.buildCache.cacheExports(unusedOnly: true).map(\.key)) == [.sha256("a"), .sha256("b")])
        try t.store.buildCache.touchCacheRecords(keys: [.sha256("a")], at: Date(timeIntervalSince1970: 3_000))
        let unused = try t.store.buildCache.cacheExports(unusedOnly: true)
        #expect(unused.map(\.key) == [.sha256("b")] && unused[0].lastHit == hitBefore && unused[0].buildID == "b1")
        #expect(try t.store.buildCache.cacheExports().count == 2)
        // A record pruned since is no longer listed.
        try t.store.buildCache.removeCacheRecords()
        #expect(try t.store.buildCache.cacheExports().isEmpty)
    }

    /// A store made before v4 (no origin, no last_hit, no cache_exports) opens, migrates, and
    /// its records read as local ones.
    @Test func aStoreFromBeforeV4Opens() throws {
        let t = try TempStore()
        let img = try t.makeImage(layers: ["base"], tags: ["c:1"])
        try t.store.index.db.write { db in
            try db.execute(sql: """
                DROP TABLE cache_exports;
                ALTER TABLE cache_records DROP COLUMN origin;
                ALTER TABLE cache_records DROP COLUMN last_hit;
                DELETE FROM grdb_migrations WHERE identifier = 'v4-cache-origin';
                INSERT INTO cache_records(key, layer_digest, result, created_at, last_used) VALUES (?, ?, '{}', 1, 1);
                """, arguments: [Digest.sha256("old").description, img.layers[0].description])
        }
        let reopened = try ImageStore(root: t.dir)
        let record = try #require(try reopened.buildCache.cacheRecord(key: .sha256("old")))
        #expect(record.origin == nil && record.layer == img.layers[0])
        #expect(try reopened.buildCache.cacheExports().isEmpty)
    }
}
