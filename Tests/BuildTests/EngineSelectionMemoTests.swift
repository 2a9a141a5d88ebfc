import Foundation
import OCI
import Testing
@testable import Build
import System

/// The `--from` selection digests live in the store's cache records: read without a write,
/// marked used at the end of the build (so `--cache-to` exports them), never taken for a step.
@Suite("EngineSelectionMemo")
struct EngineSelectionMemoTests {
    @Test func selectionDigestsRoundTripThroughCacheRecords() async throws {
        let base = try FileSystem.makeTemporaryDirectory(in: "/var/tmp/slipway-tests", prefix: "selmemo-")
        defer { try? FileSystem.removeTree(base) }
        let store = try ImageStore(root: base + "/store")
        let engineStore = StoreEngineStore(store: store)
        let key = SelectionDigest.memoKey(layers: [Digest.sha256("layer")], copy: .selection(["/out"]))
        let content = Digest.sha256("content")

        #expect(try await engineStore.selectionDigest(key) == nil)
        let before = Date(timeIntervalSinceNow: -1)
        try await engineStore.recordSelectionDigest(key, content)
        #expect(try await engineStore.selectionDigest(key) == content)
        #expect(try await engineStore.cachedStep(key) == nil, "a selection record is not a step result")

        // A fresh store value (the next build) reads it and marks it used when the build ends.
        let next = StoreEngineStore(store: store)
        #expect(try await next.selectionDigest(key) == content)
        try await next.finishBuild(succeeded: true)
        #expect(try store.buildCache.cacheRecords(usedSince: before).map(\.key).contains(key.digest))
    }
}
