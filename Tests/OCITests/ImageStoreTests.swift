import Foundation
import Testing
@testable import OCI
import System

@Suite struct ImageStoreTests {
    @Test func blobsAreVerifiedAndAtomic() throws {
        let t = try TempStore()
        let d = try t.store.content.putBlob(Array("hello".utf8))
        #expect(d == Digest.sha256("hello"))
        #expect(try t.store.content.readBlob(d) == Array("hello".utf8))
        #expect(FileManager.default.fileExists(atPath: t.dir + "/blobs/sha256/" + d.encoded))
        // A wrong expected digest leaves nothing behind, not even a temp file.
        #expect(throws: StoreError.self) { try t.store.content.putBlob(Array("x".utf8), expected: Digest.sha256("y")) }
        #expect(!t.store.content.hasBlob(Digest.sha256("x")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.dir + "/tmp").isEmpty)
        let w = try t.store.content.blobWriter()
        try w.write(Array("abc".utf8))
        #expect(throws: StoreError.sizeMismatch(expected: 4, actual: 3, what: "blob")) { try w.commit(expectedSize: 4) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.dir + "/tmp").isEmpty)
    }

    @Test func putResolveTagUntag() throws {
        let t = try TempStore()
        let img = try t.makeImage(layers: ["one", "two"], tags: ["app:1"])
        #expect(img.tags.map(\.description) == ["docker.io/library/app:1"])
        #expect(img.layers.count == 2)
        #expect(img.size == 6)
        #expect(try t.store.resolve("app:1").manifestDigest == img.manifestDigest)
        #expect(try t.store.resolve("docker.io/library/app:1") == img)
        #expect(try t.store.resolve(String(img.id.encoded.prefix(8))) == img)
        #expect(try t.store.resolve(img.id.description) == img)
        #expect(try t.store.resolve("app@\(img.manifestDigest)") == img)
        #expect(throws: StoreError.imageNotFound("app")) { try t.store.resolve("app") }
        #expect(throws: StoreError.self) { try t.store.resolve("Bad:Ref") }

        try t.store.tag(img, as: try ImageReference(parsing: "ghcr.io/o/app:latest"))
        #expect(try t.store.resolve("ghcr.io/o/app").tags.count == 2)
        #expect(try t.store.untag(try ImageReference(parsing: "app:1")))
        #expect(try t.store.resolve(img.id.description).tags.map(\.description) == ["ghcr.io/o/app:latest"])

        let config = try t.store.config(of: img)
        #expect(config.config?.cmd == ["sh"])
        #expect(try t.store.layerRecord(diffID: config.rootfs.diffIDs[1])?.uncompressedSize == 3)
    }

    @Test func dockerFormatManifest() throws {
        let t = try TempStore()
        let img = try t.makeImage(layers: ["l"], tags: ["d:1"], format: .docker)
        #expect(img.manifestMediaType == MediaType.dockerManifest)
        let m = try t.store.manifest(of: img)
        #expect(m.config.mediaType == MediaType.dockerConfig)
        #expect(m.layers[0].mediaType == MediaType.dockerLayer)
    }

    @Test func retaggingLeavesDanglingImageThatPruneRemoves() throws {
        let t = try TempStore()
        let a = try t.makeImage(layers: ["shared", "a-only"], tags: ["app:1"])
        let b = try t.makeImage(layers: ["shared", "b-only"], tags: ["app:1"], cmd: "b")
        #expect(try t.store.images().count == 2)
        #expect(try t.store.image(manifestDigest: a.manifestDigest)?.tags == [])
        let report = try t.store.collectGarbage(danglingImages: true)
        #expect(report.removedImages == [a.manifestDigest])
        #expect(Set(report.removedBlobs) == Set([a.manifestDigest, a.configDigest, Digest.sha256("a-only")]))
        #expect(t.store.content.hasBlob(Digest.sha256("shared")))
        #expect(try t.store.resolve("app:1") == b)
        #expect(try t.store.fsck().isValid)
    }

    @Test func cacheRecordsKeepLayersAlive() throws {
        let t = try TempStore()
        let img = try t.makeImage(layers: ["base", "step"], tags: ["c:1"])
        let step = img.layers[1]
        try t.store.buildCache.putCacheRecord(CacheRecord(key: .sha256("k1"), layer: step, result: #"{"env":["A=1"]}"#))
        try t.store.buildCache.putCacheRecord(CacheRecord(key: .sha256("k2"), layer: nil, result: #"{"env":["B=2"]}"#))
        #expect(throws: StoreError.self) {
            try t.store.buildCache.putCacheRecord(CacheRecord(key: .sha256("k3"), layer: Digest.sha256("nope"), result: "{}"))
        }
        try t.store.removeImage(img.manifestDigest)
        try t.store.collectGarbage()
        #expect(t.store.content.hasBlob(step))
        #expect(!t.store.content.hasBlob(img.layers[0]))
        let r = try #require(try t.store.buildCache.cacheRecord(key: .sha256("k1")))
        #expect(r.layer == step && r.result == #"{"env":["A=1"]}"#)
        #expect(try t.store.buildCache.cacheRecord(key: .sha256("k2"))?.layer == nil)
        #expect(try t.store.buildCache.cacheRecord(key: .sha256("missing")) == nil)
        #expect(try t.store.buildCache.removeCacheRecords() == 2)
        try t.store.collectGarbage()
        #expect(!t.store.content.hasBlob(step))
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.dir + "/blobs/sha256").isEmpty)
    }

    @Test func leasedBlobsSurviveCollectionUntilStoreCloses() throws {
        let t = try TempStore()
        let d = try t.store.content.putBlob(Array("pending".utf8))
        try t.store.collectGarbage()
        #expect(t.store.content.hasBlob(d))
        // Another handle (as another process would) sees the lease of a live pid and keeps the blob.
        let other = try ImageStore(root: t.dir)
        try other.collectGarbage()
        #expect(t.store.content.hasBlob(d))
    }

    @Test func fsckFindsCorruptionAndRepairs() throws {
        let t = try TempStore()
        let img = try t.makeImage(layers: ["good", "bad"], tags: ["f:1"])
        let keep = try t.makeImage(layers: ["fine"], tags: ["g:1"])
        #expect(try t.store.fsck().isValid)
        // Corrupt a layer and leave garbage behind.
        let path = t.store.content.blobPath(img.layers[1])
        chmod(path, 0o644)
        try Data("BAD".utf8).write(to: URL(fileURLWithPath: path))
        try Data("junk".utf8).write(to: URL(fileURLWithPath: t.dir + "/tmp/999999-1-x.tmp"))
        let report = try t.store.fsck()
        #expect(!report.isValid)
        #expect(report.problems.contains { $0.contains("corrupt") })
        #expect(report.garbage.contains { $0.contains("999999-1-x.tmp") })
        let repaired = try t.store.fsck(repair: true)
        #expect(repaired.isValid)
        #expect(!repaired.repairs.isEmpty)
        #expect(try t.store.images().map(\.manifestDigest) == [keep.manifestDigest])
        let after = try t.store.fsck()
        #expect(after.isValid && after.garbage.isEmpty, "\(after.garbage)")
    }

    @Test func putImageRefusesMissingContent() throws {
        let t = try TempStore()
        let config = ImageConfig(diffIDs: [Digest.sha256("absent")])
        let layer = LayerRecord(digest: Digest.sha256("absent"), diffID: Digest.sha256("absent"), size: 6, uncompressedSize: 6,
                                mediaType: MediaType.ociLayer)
        #expect(throws: StoreError.self) { try t.store.putImage(config: config, layers: [layer], tags: []) }
        #expect(try t.store.images().isEmpty)
    }

    @Test func defaultRoot() {
        #expect(ImageStore.defaultRoot(environment: ["SLIPWAY_ROOT": "/x"]) == "/x")
        if getuid() == 0 { #expect(ImageStore.defaultRoot(environment: [:]) == "/var/lib/slipway") }
    }

    /// Snapshots hold trees made by RUN steps: deeper than PATH_MAX can name, read-only
    /// directories, symlinks to outside. Removal must finish and never follow a link.
    @Test func removeTreeHandlesDeepReadOnlyTreesAndNeverFollowsLinks() throws {
        let t = try TempStore()
        let outside = t.dir + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: outside + "/keep", contents: Data("keep".utf8)))
        let tree = t.store.snapshotsDirectory + "/deep"
        #expect(mkdir(tree, 0o755) == 0)
        var fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        for _ in 0..<3000 {   // 3000 × "/d" is beyond PATH_MAX (4096)
            close(openat(fd, "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0o444))
            symlinkat(outside, fd, "out")
            #expect(mkdirat(fd, "d", 0o755) == 0)
            let sub = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            fchmod(fd, 0o555)
            close(fd)
            fd = sub
        }
        close(fd)
        try FileSystem.removeTree(tree)
        #expect(!FileSystem.exists(tree))
        #expect(FileManager.default.contents(atPath: outside + "/keep") == Data("keep".utf8))
        try FileSystem.removeTree(tree)   // absent: nothing to do
    }
}
