import Foundation
import OCI
import Testing
@testable import Registry

/// Build-cache export/import through a real registry: what store A cached, store B gets.
@Suite struct RegistryCacheTests {
    @Test func cacheRecordsAndLayersTravelThroughTheRegistry() async throws {
        try await RegistryServer.with { registry in
            let a = try TestStore(), b = try TestStore()
            defer { a.remove(); b.remove() }
            let image = try await a.importImage(tag: "\(registry.host)/app/base:1", files: 2)
            let layer = try #require(image.layers.first)
            let records = [
                CacheRecord(key: try Digest(parsing: "sha256:" + String(repeating: "1", count: 64)), layer: layer, result: #"{"step":"RUN make"}"#),
                CacheRecord(key: try Digest(parsing: "sha256:" + String(repeating: "2", count: 64)), layer: nil, result: #"{"step":"ENV A=1"}"#),
            ]
            for r in records { try a.store.buildCache.putCacheRecord(r) }
            let cacheRef = try ImageReference(parsing: "\(registry.host)/app/cache:main")
            let cache = RegistryCache()
            try await cache.export(records, from: a.store, to: cacheRef)

            #expect(try b.store.buildCache.cacheRecord(key: records[0].key) == nil)
            let imported = try await cache.importCache(from: cacheRef, into: b.store)
            #expect(imported == 2)
            for r in records {
                let got = try #require(try b.store.buildCache.cacheRecord(key: r.key))
                #expect(got.layer == r.layer && got.result == r.result)
            }
            #expect(b.store.content.hasBlob(layer))
            #expect(try b.store.layerRecord(digest: layer)?.diffID == (try a.store.layerRecord(digest: layer)?.diffID))
            #expect(try b.store.fsck().isValid)

            // A first build has no cache yet: not an error.
            #expect(try await cache.importCache(from: ImageReference(parsing: "\(registry.host)/app/cache:none"), into: b.store) == 0)
            // An ordinary image is not a cache.
            try await ImageTransfer().push("\(registry.host)/app/base:1", from: a.store)
            await #expect(throws: RegistryError.self) {
                try await cache.importCache(from: ImageReference(parsing: "\(registry.host)/app/base:1"), into: b.store)
            }
        }
    }
}

@Suite struct LocalCacheTests {
    @Test func cacheRoundTripsThroughAnOCILayoutDirectory() async throws {
        let a = try TestStore(), b = try TestStore(), c = try TestStore()
        let dir = try TempDir("localcache")
        defer { a.remove(); b.remove(); c.remove(); dir.remove() }
        let image = try await a.importImage(tag: "local/base:1", files: 1)
        let layer = try #require(image.layers.first)
        let record = CacheRecord(key: try Digest(parsing: "sha256:" + String(repeating: "3", count: 64)), layer: layer, result: #"{"x":1}"#)
        try a.store.buildCache.putCacheRecord(record)
        let cache = RegistryCache()
        let path = dir.path + "/cache"
        #expect(try await cache.importLocal(from: path, into: b.store) == 0)
        try await cache.exportLocal([record], from: a.store, to: path)
        #expect(FileManager.default.fileExists(atPath: path + "/index.json"))
        #expect(try await cache.importLocal(from: path, into: b.store) == 1)
        #expect(try b.store.buildCache.cacheRecord(key: record.key)?.layer == layer)
        #expect(b.store.content.hasBlob(layer))

        // A tampered layer file is refused and never reaches the store.
        let blob = path + "/blobs/sha256/" + layer.encoded
        var bytes = try Data(contentsOf: URL(fileURLWithPath: blob))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: blob))
        await #expect(throws: (any Error).self) { try await cache.importLocal(from: path, into: c.store) }
        #expect(!c.store.content.hasBlob(layer))
        #expect(try c.store.buildCache.cacheRecord(key: record.key) == nil)
    }
}
