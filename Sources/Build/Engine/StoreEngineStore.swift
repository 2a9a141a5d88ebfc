import Foundation
import OCI
import Synchronization
import System

/// The engine's store operations over the OCI `ImageStore`: images and cache records from its
/// SQLite index, layer blobs written with `LayerWriter`, unpacked layers kept as
/// `snapshots/<diffID hex>` directories (overlay-lower form: whiteouts are 0:0 devices, so an
/// overlay upper directory is adopted as is).
public struct StoreEngineStore: EngineStore {
    public let store: ImageStore
    public let compression: LayerCompression
    /// SOURCE_DATE_EPOCH: new layers get every mtime clamped to it (reproducible builds).
    public var sourceDateEpoch: Int64?

    /// Pulls a reference into the store for a platform (nil: the host's) through the registry
    /// module; nil: never pull.
    public var pull: (@Sendable (String, Platform?) async throws -> Void)?
    /// `--pull`: fetch every base image from its registry even when the store has it.
    public var alwaysPull = false
    let pulls = PullOnce()
    /// Keys of the cache records this build used: marked used in one write when it ends.
    let usedCacheKeys = UsedCacheKeys()

    public init(store: ImageStore, compression: LayerCompression = .gzip) {
        self.store = store
        self.compression = compression
    }

    public func resolveImage(_ reference: String) async throws -> ResolvedImage? {
        try await resolveImage(reference, platform: nil)
    }

    public func resolveImage(_ reference: String, platform: Platform?) async throws -> ResolvedImage? {
        if alwaysPull, pull != nil, !reference.hasPrefix("sha256:") {
            try await pullOnce(reference, platform: platform)
        }
        let stored: StoredImage
        do {
            stored = try store.resolve(reference)
        } catch StoreError.imageNotFound {
            // Missing: pull it, as `docker build` does (short names from Docker Hub). A failed
            // pull is reported with the missing base, so the user sees both ways out.
            guard pull != nil, !reference.hasPrefix("sha256:") else { return nil }
            do {
                try await pullOnce(reference, platform: platform)
            } catch let error as CancellationError {
                throw error
            } catch {
                throw BasePullError(reference: reference, reason: "\(error)")
            }
            stored = try store.resolve(reference)
        }
        let records = try store.layerRecords(of: stored)
        // Leased for the rest of the build before anything is read: an `rmi` or `prune` at the
        // same time then removes the name, never the blobs this build uses.
        let missing = try store.content.lease([stored.manifestDigest, stored.configDigest] + records.map(\.digest))
        if !missing.isEmpty {
            throw EngineStoreError.io("image \(reference) names blobs the store lacks (\(missing.map(\.description).joined(separator: ", "))): "
                                      + "run `slipway fsck`, then pull or import \(reference) again")
        }
        let config = try store.config(of: stored)
        let layers = records.map { LayerRef(digest: $0.digest, diffID: $0.diffID, size: $0.size, mediaType: $0.mediaType,
                                            uncompressedSize: $0.uncompressedSize) }
        return ResolvedImage(id: stored.configDigest, image: StageImage(config), layers: layers,
                             onBuild: config.config?.onBuild ?? [])
    }

    /// Pulls each reference at most once per build, even when several stages use it: a stage that
    /// asks while another stage's pull of the same reference is under way awaits that pull.
    func pullOnce(_ reference: String, platform: Platform?) async throws {
        guard let pull else { return }
        try await pulls.run(reference + (platform.map { " " + $0.description } ?? "")) { _ in try await pull(reference, platform) }
    }

    func snapshotPath(_ layer: LayerRef) -> String { store.snapshotsDirectory + "/" + layer.diffID.encoded }

    public func layerDirectory(_ layer: LayerRef, below: [String]) async throws -> String {
        // The store's one unpacker; the temp directory is registered, so that Ctrl-C during a
        // long extraction leaves no half-unpacked directory. Decompressing and writing a whole
        // layer blocks: off the cooperative pool.
        let store = self.store
        // Unpacked already (the usual case): no thread hop.
        let dir = snapshotPath(layer)
        if FileSystem.isDirectory(dir) { return dir }
        return try await runOffPool {
            try store.unpackLayer(digest: layer.digest, diffID: layer.diffID, below: below) { tmp in
                let token = try CleanupRegistry.shared.register(.directory(tmp))
                return { CleanupRegistry.shared.release(token) }
            }
        }
    }

    public func cachedStep(_ key: CacheKey) async throws -> CachedStep? {
        // A read (no store lock, no write transaction): the last-use mark is batched in finishBuild.
        let key = key.digest
        guard let rec = try store.buildCache.cacheRecord(key: key) else { return nil }
        guard var step = try? JSONDecoder().decode(CachedStep.self, from: Data(rec.result.utf8)) else { return nil }
        if let l = step.layer {
            // Leased under the store lock only if the blob is there: a concurrent prune either
            // sees the lease or has already removed the blob (then a miss: the step runs again).
            guard try store.content.lease([l.digest]).isEmpty else { return nil }
            // Records written before the size was kept (and imported ones) name it in the layer row.
            if l.uncompressedSize == nil { step.layer?.uncompressedSize = try store.layerRecord(digest: l.digest)?.uncompressedSize }
        }
        step.importedFrom = rec.origin
        usedCacheKeys.keys.withLock { $0.append(key) }
        return step
    }

    public func finishBuild(succeeded: Bool) async throws {
        let keys = usedCacheKeys.keys.withLock { keys in
            defer { keys.removeAll() }
            return keys
        }
        let inputs = usedCacheKeys.inputs.withLock { list in
            defer { list.removeAll() }
            return list
        }
        // Explanatory only: a failure to keep them never fails the build.
        if !inputs.isEmpty { try? store.buildCache.putStepInputs(inputs) }
        if keys.isEmpty { return }
        try store.buildCache.touchCacheRecords(keys: keys)
    }

    public func previousStepInputs(scopes: [Digest]) async throws -> StepInputs? {
        guard let text = try store.buildCache.stepInputs(scopes: scopes) else { return nil }
        return try? JSONDecoder().decode(StepInputs.self, from: Data(text.utf8))
    }

    public func recordStepInputs(_ inputs: StepInputs, key: Digest, scopes: [Digest]) async {
        guard let data = try? JSONEncoder().encode(inputs) else { return }
        let text = String(decoding: data, as: UTF8.self)
        usedCacheKeys.inputs.withLock { $0.append((scopes: scopes, key: key, inputs: text)) }
    }

    /// Selection digests live in `cache_records` as layer-less records (`{"contentDigest":…}`),
    /// so they are marked used, exported with `--cache-to` and pruned like step records.
    public func selectionDigest(_ key: CacheKey) async throws -> Digest? {
        let key = key.digest
        guard let rec = try store.buildCache.cacheRecord(key: key),
              let memo = try? JSONDecoder().decode(SelectionMemo.self, from: Data(rec.result.utf8)) else { return nil }
        usedCacheKeys.keys.withLock { $0.append(key) }
        return memo.contentDigest
    }

    public func recordSelectionDigest(_ key: CacheKey, _ digest: Digest) async throws {
        let json = String(decoding: try JSONEncoder().encode(SelectionMemo(contentDigest: digest)), as: UTF8.self)
        try store.buildCache.putCacheRecord(CacheRecord(key: key.digest, layer: nil, result: json))
    }

    public func recordStep(_ key: CacheKey, _ step: CachedStep) async throws {
        let json = String(decoding: try JSONEncoder().encode(step), as: UTF8.self)
        try store.buildCache.putCacheRecord(CacheRecord(key: key.digest, layer: step.layer?.digest, result: json))
    }

    public func commitLayer(upperDirectory: String) async throws -> LayerRef? {
        // Tar, compression, sha256 and fsyncs block: keep them off the cooperative pool.
        try await runOffPool { try commitLayerBlocking(upperDirectory: upperDirectory) }
    }

    func commitLayerBlocking(upperDirectory: String) throws -> LayerRef? {
        let entries = try FileManager.default.contentsOfDirectory(atPath: upperDirectory)
        if entries.isEmpty { return nil }
        let writer = LayerWriter(options: .init(compression: compression, source: .overlayUpper, sourceDateEpoch: sourceDateEpoch))
        let blob = try writer.write(directory: upperDirectory, into: store.tmpDirectory)
        defer { unlink(blob.file) }
        _ = try store.content.putBlob(copying: blob.file, expected: blob.digest, expectedSize: blob.compressedSize)
        try store.recordLayer(LayerRecord(digest: blob.digest, diffID: blob.diffID, size: blob.compressedSize,
                                          uncompressedSize: blob.uncompressedSize, mediaType: blob.mediaType))
        let layer = LayerRef(digest: blob.digest, diffID: blob.diffID, size: blob.compressedSize, mediaType: blob.mediaType,
                             uncompressedSize: blob.uncompressedSize)
        let dest = snapshotPath(layer)
        if !FileManager.default.fileExists(atPath: dest) {
            // Same filesystem (snapshots live under the store root): a rename, no copy. A scratch
            // directory elsewhere ($SLIPWAY_SCRATCH on another filesystem) keeps no snapshot: the
            // next step that needs the layer unpacks it from its blob.
            if rename(upperDirectory, dest) != 0 && errno != EXDEV && !FileManager.default.fileExists(atPath: dest) {
                throw StoreError.io(path: dest, operation: "keep layer snapshot", errno: errno)
            }
        }
        return layer
    }

    public func writeImage(_ image: StageImage, layers: [LayerRef], tags: [String]) async throws -> WrittenImage {
        var refs: [ImageReference] = []
        for t in tags { refs.append(try ImageReference(parsing: t)) }
        let records = try layers.map { l in
            try store.layerRecord(digest: l.digest)
                ?? LayerRecord(digest: l.digest, diffID: l.diffID, size: l.size, uncompressedSize: l.uncompressedSize, mediaType: l.mediaType)
        }
        let config = image.imageConfig(diffIDs: layers.map(\.diffID))
        // A no-change rebuild produces the same config: when that image exists and already
        // carries every tag, there is nothing to write (no fsyncs on the fast path).
        let configDigest = try CanonicalJSON.blob(config, mediaType: MediaType.ociConfig).descriptor.digest
        if let existing = try store.images(configDigest: configDigest).first(where: { Set(refs).isSubset(of: Set($0.tags)) }) {
            try? store.touch(existing)
            return WrittenImage(id: existing.configDigest, manifestDigest: existing.manifestDigest, size: existing.size)
        }
        let stored = try store.putImage(config: config, layers: records, tags: refs)
        return WrittenImage(id: stored.configDigest, manifestDigest: stored.manifestDigest, size: stored.size)
    }
}

public enum EngineStoreError: Error, CustomStringConvertible {
    case io(String)
    /// A failed system call (unpacking a layer into its snapshot).
    case system(SystemError)
    public var description: String {
        switch self {
        case .io(let m): return m
        case .system(let e): return e.description
        }
    }
}

/// The result JSON of a selection digest's cache record.
struct SelectionMemo: Codable {
    var contentDigest: Digest
}

/// The cache keys a build used (shared by copies of the store value).
final class UsedCacheKeys: Sendable {
    let keys = Mutex<[Digest]>([])
    /// Inputs of the steps that ran (`recordStepInputs`), written with the keys at the end.
    let inputs = Mutex<[(scopes: [Digest], key: Digest, inputs: String)]>([])
}

/// The pulls of this build, one task per reference; later callers share the first one's outcome.
actor PullOnce {
    private var tasks: [String: Task<Void, Error>] = [:]

    func run(_ name: String, _ pull: @escaping @Sendable (String) async throws -> Void) async throws {
        if let task = tasks[name] { return try await task.value }
        let task = Task { try await pull(name) }
        tasks[name] = task
        try await task.value
    }
}

/// A base image that is not in the store could not be pulled either.
public struct BasePullError: Error, CustomStringConvertible {
    public var reference: String
    public var reason: String
    public var description: String { "pulling \(reference) failed: \(reason)" }
}
