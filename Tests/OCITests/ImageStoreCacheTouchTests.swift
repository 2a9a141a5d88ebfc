import Foundation
import Testing
@testable import OCI

/// Cache lookups are reads; a build marks the records it used in one write at its end.
@Suite struct ImageStoreCacheTouchTests {
    @Test func lookupsDoNotWriteAndTouchMarksUsedRecords() throws {
        let t = try TempStore()
        let img = try t.makeImage(layers: ["base"], tags: ["c:1"])
        let old = Date(timeIntervalSince1970: 1_000_000)
        for key in [Digest.sha256("k1"), Digest.sha256("k2")] {
            try t.store.buildCache.putCacheRecord(CacheRecord(key: key, layer: img.layers[0], result: "{}", createdAt: old, lastUsed: old))
        }
        // A lookup leaves last_used alone.
        #expect(try t.store.buildCache.cacheRecord(key: .sha256("k1"))?.lastUsed == old)
        #expect(try t.store.buildCache.cacheRecord(key: .sha256("k1"))?.lastUsed == old)

        let now = Date(timeIntervalSince1970: 2_000_000)
        try t.store.buildCache.touchCacheRecords(keys: [.sha256("k1"), .sha256("k1"), .sha256("unknown")], at: now)
        #expect(try t.store.buildCache.cacheRecord(key: .sha256("k1"))?.lastUsed == now)
        #expect(try t.store.buildCache.cacheRecord(key: .sha256("k2"))?.lastUsed == old)
        #expect(try t.store.buildCache.removeCacheRecords(lastUsedBefore: Date(timeIntervalSince1970: 1_500_000)) == 1)
        #expect(try t.store.buildCache.cacheRecord(key: .sha256("k1")) != nil && t.store.buildCache.cacheRecord(key: .sha256("k2")) == nil)
    }

    @Test func recordWhoseLayerBlobIsGoneReadsAsMissing() throws {
        let t = try TempStore()
        let img = try t.makeImage(layers: ["base"], tags: ["c:1"])
        try t.store.buildCache.putCacheRecord(CacheRecord(key: .sha256("k"), layer: img.layers[0], result: "{}"))
        #expect(try t.store.buildCache.cacheRecord(key: .sha256("k")) != nil)
        try FileManager.default.removeItem(atPath: t.store.content.blobPath(img.layers[0]))
        #expect(try t.store.buildCache.cacheRecord(key: .sha256("k")) == nil)
    }
}
