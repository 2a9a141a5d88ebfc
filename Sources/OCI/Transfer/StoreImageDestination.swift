import Foundation
import System

/// The local store as a destination (`pull`, `--build-context oci-layout://`): blobs land
/// through `StoreBlobReceiver` (temp file, digest checked, renamed into `blobs/`), and are
/// leased at once, so a concurrent GC cannot take them before the manifest names them. The
/// manifest is published last, with each layer's diff_id and uncompressed size measured from
/// the blob itself: a config that lies about its layers never reaches the store.
///
/// `deferred`: manifests are verified as they come but recorded only by `publish()`, so a copy
/// of several images (an archive's) records all of them or none.
public struct StoreImageDestination: ImageDestination {
    public let store: ImageStore
    private let pending: Pending?

    public init(store: ImageStore, deferred: Bool = false) {
        self.store = store
        self.pending = deferred ? Pending() : nil
    }

    /// Images verified by a deferred destination, waiting for `publish()`.
    private final class Pending: @unchecked Sendable {
        let lock = NSLock()
        var images: [(bytes: [UInt8], names: [ImageReference], records: [LayerRecord])] = []
    }

    /// Records every image a deferred destination verified, in the order they came, and
    /// returns them (an immediate destination has recorded them already: none).
    public func publish() throws -> [StoredImage] {
        guard let pending else { return [] }
        let images = pending.lock.withLock { () -> [(bytes: [UInt8], names: [ImageReference], records: [LayerRecord])] in
            defer { pending.images = [] }
            return pending.images
        }
        return try images.map { try store.putImage(manifest: $0.bytes, tags: $0.names, layers: $0.records) }
    }

    public var description: String { "the local store \(store.root)" }

    public func hasBlob(_ descriptor: Descriptor) async throws -> Bool {
        store.content.hasBlob(descriptor.digest) && (try? store.content.lease(descriptor.digest)) == true
    }

    public func putBlob(_ descriptor: Descriptor, from source: any ImageSource,
                        progress: (@Sendable (Int64) -> Void)?) async throws -> BlobPut {
        let receiver = try StoreBlobReceiver(store: store)
        do {
            let n = try await source.fetchBlob(descriptor, into: receiver, progress: progress)
            _ = try store.content.lease(descriptor.digest)
            return .copied(n)
        } catch {
            receiver.abort()
            throw error
        }
    }

    public func readBack(_ descriptor: Descriptor) throws -> [UInt8]? {
        try store.content.readBlob(descriptor.digest)
    }

    public func putManifest(_ manifest: SourceManifest, parsed: ImageManifest, config: ImageConfig,
                            names: [ImageReference], reference: String) async throws -> Digest {
        let expected = try ImageCopy.expectedDiffIDs(manifest: parsed, config: config, what: reference)
        // Measured four at a time: each is a decompression on a thread of its own.
        var seen = Set<Digest>()
        let layers = parsed.layers.filter { seen.insert($0.digest).inserted }
        var records: [LayerRecord] = []
        try await withThrowingTaskGroup(of: LayerRecord?.self) { group in
            var next = 0
            func add() {
                let layer = layers[next]
                next += 1
                group.addTask { try await verifiedRecord(layer, diffID: expected[layer.digest], what: reference) }
            }
            while next < layers.count && next < 4 { add() }
            while let record = try await group.next() {
                if let record { records.append(record) }
                if next < layers.count { add() }
            }
        }
        if let pending {
            pending.lock.withLock { pending.images.append((manifest.bytes, names, records)) }
            return manifest.digest
        }
        let image = try store.putImage(manifest: manifest.bytes, tags: names, layers: records)
        return image.manifestDigest
    }

    private func verifiedRecord(_ layer: Descriptor, diffID want: Digest?, what: String) async throws -> LayerRecord? {
        guard let want else { return nil }
        let store = self.store
        // Decompressing is CPU-bound: off the cooperative pool.
        return try await runOffPool { try store.verifiedLayerRecord(layer, diffID: want, what: what) }
    }
}
