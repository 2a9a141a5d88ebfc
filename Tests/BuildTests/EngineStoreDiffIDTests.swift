#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI
import Testing
@testable import Build
import System

/// A layer is unpacked into `snapshots/<diffID>`, shared by every later image with that diffID:
/// a blob whose content does not hash to the diffID its image records must be refused, not kept.
@Suite("EngineStoreDiffID")
struct EngineStoreDiffIDTests {
    /// A store with one real layer blob and an image `img:1` over it whose layer record and
    /// config carry `recorded` as the diffID (nil: the true one).
    static func makeStore(recording recorded: Digest?) throws -> (base: String, store: ImageStore, blob: LayerBlob) {
        let base = try FileSystem.makeTemporaryDirectory(in: "/var/tmp/slipway-tests", prefix: "diffid-")
        let tree = base + "/tree"
        try FileManager.default.createDirectory(atPath: tree + "/etc", withIntermediateDirectories: true)
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: tree + "/etc/greeting"))
        let store = try ImageStore(root: base + "/store")
        let blob = try LayerWriter(options: .init(compression: .gzip)).write(directory: tree, into: base)
        defer { unlink(blob.file) }
        _ = try store.content.putBlob(copying: blob.file, expected: blob.digest, expectedSize: blob.compressedSize)
        let diffID = recorded ?? blob.diffID
        let record = LayerRecord(digest: blob.digest, diffID: diffID, size: blob.compressedSize,
                                 uncompressedSize: blob.uncompressedSize, mediaType: blob.mediaType)
        try store.recordLayer(record)
        try store.putImage(config: ImageConfig(config: ContainerConfig(cmd: ["sh"]), diffIDs: [diffID]),
                           layers: [record], tags: [try ImageReference(parsing: "img:1")])
        return (base, store, blob)
    }

    @Test func mismatchedDiffIDIsRefusedAndNeverBecomesASnapshot() async throws {
        let wrong = try Digest(parsing: "sha256:" + String(repeating: "ab", count: 32))
        let (base, store, blob) = try Self.makeStore(recording: wrong)
        defer { try? FileSystem.removeTree(base) }
        let engineStore = StoreEngineStore(store: store)

        let bad = try #require(try await engineStore.resolveImage("img:1"))
        let layer = try #require(bad.layers.first)
        #expect(layer.diffID == wrong)
        do {
            _ = try await engineStore.layerDirectory(layer, below: [])
            Issue.record("a layer whose recorded diffID is wrong was unpacked")
        } catch let error as StoreError {
            guard case .diffIDMismatch(let digest, let expected, let actual) = error else {
                Issue.record("unexpected error: \(error)"); return
            }
            #expect(digest == blob.digest && expected == wrong && actual == blob.diffID)
            #expect(error.description.contains(wrong.description) && error.description.contains(blob.diffID.description))
        }
        // Neither the wrong nor the true diffID got a snapshot, and no half-unpacked directory is left.
        #expect(!FileManager.default.fileExists(atPath: store.snapshotsDirectory + "/" + wrong.encoded))
        #expect(!FileManager.default.fileExists(atPath: store.snapshotsDirectory + "/" + blob.diffID.encoded))
        let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: store.tmpDirectory)) ?? [])
            + ((try? FileManager.default.contentsOfDirectory(atPath: store.snapshotsDirectory)) ?? [])
        #expect(leftovers.isEmpty, "\(leftovers)")

    }

    @Test func matchingDiffIDUnpacksIntoItsSnapshot() async throws {
        let (base, store, blob) = try Self.makeStore(recording: nil)
        defer { try? FileSystem.removeTree(base) }
        let engineStore = StoreEngineStore(store: store)
        let image = try #require(try await engineStore.resolveImage("img:1"))
        let dir = try await engineStore.layerDirectory(try #require(image.layers.first), below: [])
        #expect(dir == store.snapshotsDirectory + "/" + blob.diffID.encoded)
        #expect(FileIO.readText(dir + "/etc/greeting") == "hello\n")
    }
}
