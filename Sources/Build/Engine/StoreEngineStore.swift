import Foundation
import OCI

/// The engine's store operations over the OCI `ImageStore`: images and cache records from its
/// SQLite index, layer blobs written with `LayerWriter`, unpacked layers kept as
/// `snapshots/<diffID hex>` directories (overlay-lower form: whiteouts are 0:0 devices, so an
/// overlay upper directory is adopted as is).
public struct StoreEngineStore: EngineStore {
    public let store: ImageStore
    public let compression: LayerCompression
    /// Unpacks a layer blob into an empty directory in overlay-lower form.
    public let unpack: @Sendable (_ blobPath: String, _ mediaType: String, _ into: String) throws -> Void

    public init(store: ImageStore, compression: LayerCompression = .gzip,
                unpack: @escaping @Sendable (String, String, String) throws -> Void = StoreEngineStore.overlayLowerUnpack) {
        self.store = store
        self.compression = compression
        self.unpack = unpack
    }

    /// Extracts a layer blob with whiteouts kept in overlayfs' form, so it can be a lowerdir.
    public static let overlayLowerUnpack: @Sendable (String, String, String) throws -> Void = { blob, _, dir in
        _ = try LayerApplier(mode: .overlayLower).apply(blob: blob, to: dir)
    }

    public func resolveImage(_ reference: String) async throws -> ResolvedImage? {
        let stored: StoredImage
        do {
            stored = try store.resolve(reference)
        } catch StoreError.imageNotFound {
            return nil
        }
        let config = try store.config(of: stored)
        let records = try store.layerRecords(of: stored)
        let layers = records.map { LayerRef(digest: $0.digest, diffID: $0.diffID, size: $0.size, mediaType: $0.mediaType) }
        return ResolvedImage(id: stored.configDigest, image: StageImage(config), layers: layers,
                             onBuild: config.config?.onBuild ?? [])
    }

    func snapshotPath(_ layer: LayerRef) -> String { store.snapshotsDirectory + "/" + layer.diffID.encoded }

    public func layerDirectory(_ layer: LayerRef) async throws -> String {
        let dir = snapshotPath(layer)
        if FileManager.default.fileExists(atPath: dir) { return dir }
        let tmp = store.tmpDirectory + "/unpack-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: false)
        do {
            try unpack(store.blobPath(layer.digest), layer.mediaType, tmp)
            if rename(tmp, dir) != 0 {
                // Another build unpacked it first: use theirs.
                try? FileManager.default.removeItem(atPath: tmp)
                guard FileManager.default.fileExists(atPath: dir) else {
                    throw EngineStoreError.io("cannot move unpacked layer into \(dir): errno \(errno)")
                }
            }
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw error
        }
        return dir
    }

    public func cachedStep(_ key: Digest) async throws -> CachedStep? {
        guard let rec = try store.cacheRecord(key: key.description) else { return nil }
        guard let step = try? JSONDecoder().decode(CachedStep.self, from: Data(rec.result.utf8)) else { return nil }
        if let l = step.layer, !FileManager.default.fileExists(atPath: snapshotPath(l)), !store.hasBlob(l.digest) {
            return nil
        }
        return step
    }

    public func recordStep(_ key: Digest, _ step: CachedStep) async throws {
        let json = String(decoding: try JSONEncoder().encode(step), as: UTF8.self)
        try store.putCacheRecord(CacheRecord(key: key.description, layer: step.layer?.digest, result: json))
    }

    public func commitLayer(upperDirectory: String) async throws -> LayerRef? {
        let entries = try FileManager.default.contentsOfDirectory(atPath: upperDirectory)
        if entries.isEmpty { return nil }
        let writer = LayerWriter(options: .init(compression: compression, source: .overlayUpper))
        let blob = try writer.write(directory: upperDirectory, into: store.tmpDirectory)
        defer { unlink(blob.file) }
        _ = try store.putBlob(copying: blob.file, expected: blob.digest, expectedSize: blob.compressedSize)
        try store.recordLayer(LayerRecord(digest: blob.digest, diffID: blob.diffID, size: blob.compressedSize,
                                          uncompressedSize: blob.uncompressedSize, mediaType: blob.mediaType))
        let layer = LayerRef(digest: blob.digest, diffID: blob.diffID, size: blob.compressedSize, mediaType: blob.mediaType)
        let dest = snapshotPath(layer)
        if !FileManager.default.fileExists(atPath: dest) {
            // Same filesystem (snapshots live under the store root): a rename, no copy.
            if rename(upperDirectory, dest) != 0 && !FileManager.default.fileExists(atPath: dest) {
                throw EngineStoreError.io("cannot keep layer snapshot \(dest): errno \(errno)")
            }
        }
        return layer
    }

    public func writeImage(_ image: StageImage, layers: [LayerRef], tags: [String]) async throws -> WrittenImage {
        var refs: [ImageReference] = []
        for t in tags { refs.append(try ImageReference(parsing: t)) }
        let records = try layers.map { l in
            try store.layerRecord(digest: l.digest)
                ?? LayerRecord(digest: l.digest, diffID: l.diffID, size: l.size, uncompressedSize: nil, mediaType: l.mediaType)
        }
        let config = image.imageConfig(diffIDs: layers.map(\.diffID))
        let stored = try store.putImage(config: config, layers: records, tags: refs)
        return WrittenImage(id: stored.configDigest, manifestDigest: stored.manifestDigest, size: stored.size)
    }
}

public enum EngineStoreError: Error, CustomStringConvertible {
    case io(String)
    public var description: String {
        switch self {
        case .io(let m): return m
        }
    }
}
