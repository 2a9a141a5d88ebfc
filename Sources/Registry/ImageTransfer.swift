import Foundation
import OCI

/// What a pull did.
public struct PullResult: Sendable {
    public var image: StoredImage
    public var reference: ImageReference
    /// The platform manifest that was stored (not the index's digest).
    public var manifestDigest: Digest
    public var downloadedBytes: Int64
    public var fetchedBlobs: Int
    /// Blobs the store already had.
    public var skippedBlobs: Int
}

/// What a push did.
public struct PushResult: Sendable {
    public var reference: ImageReference
    public var manifestDigest: Digest
    public var uploadedBlobs: Int
    public var mountedBlobs: Int
    /// Blobs the registry already had.
    public var skippedBlobs: Int
    public var uploadedBytes: Int64
}

/// Whole-image transfers between a registry and the local store: the manifest (resolving an
/// index to one platform), then config and layers concurrently, skipping what is already there.
public struct ImageTransfer: Sendable {
    public var access: RegistryAccess
    /// Blobs transferred at the same time.
    public var concurrency: Int
    /// Receives one line per notable event (per-layer start, progress quarters, completion).
    public var progress: (@Sendable (String) -> Void)?

    public init(access: RegistryAccess = RegistryAccess(), concurrency: Int = 4,
                progress: (@Sendable (String) -> Void)? = nil) {
        self.access = access
        self.concurrency = max(1, concurrency)
        self.progress = progress
    }

    // MARK: - Pull

    /// Pulls `reference` into `store` and tags it (when pulled by tag). `platform` chooses from
    /// an index; the host's platform by default.
    @discardableResult
    public func pull(_ reference: ImageReference, into store: ImageStore, platform: Platform? = nil) async throws -> PullResult {
        let client = try access.client(for: reference.domain)
        let repo = reference.path
        let wanted = platform ?? Platform.host
        var fetched = try await client.fetchManifest(repository: repo, reference: reference.digest?.description ?? reference.tag ?? ImageReference.defaultTag)
        let fromIndex = fetched.isIndex
        if fromIndex {
            let index = try ImageIndex.decode(Array(fetched.data), source: "index of \(reference)")
            guard let chosen = index.bestManifest(for: wanted), MediaType.isManifest(chosen.mediaType) || !MediaType.isIndex(chosen.mediaType) else {
                throw RegistryError.noMatchingPlatform(wanted: wanted.description,
                                                       available: index.manifests.compactMap { $0.platform?.description })
            }
            progress?("\(reference.familiar): platform \(wanted) is \(chosen.digest.short)")
            fetched = try await client.fetchManifest(repository: repo, reference: chosen.digest.description)
            if fetched.isIndex {
                throw RegistryError.protocolViolation("index entry \(chosen.digest) is itself an index; nested indexes are not supported")
            }
        }
        let manifest: ImageManifest
        do { manifest = try ImageManifest.decode(Array(fetched.data), source: "manifest of \(reference)") } catch {
            throw RegistryError.protocolViolation("\(error) (schema 1 manifests are not supported)")
        }
        let counters = TransferCounters()
        // The config first: it is small, and an explicit --platform must match a plain manifest.
        let fetchOne: @Sendable (Descriptor) async throws -> Void = { descriptor in
            let label = descriptor.digest.short
            if store.hasBlob(descriptor.digest), (try? store.lease(descriptor.digest)) == true {
                counters.skip()
                progress?("\(label): already present")
                return
            }
            progress?("\(label): downloading \(Self.format(descriptor.size))")
            let reporter = QuarterReporter(label: label, total: descriptor.size, sink: progress)
            let n = try await client.fetchBlob(repository: repo, digest: descriptor.digest, size: descriptor.size,
                                               into: store, progress: { reporter.report($0) })
            counters.fetched(n)
            progress?("\(label): done")
        }
        try await fetchOne(manifest.config)
        let config = try ImageConfig.decode(try store.readBlob(manifest.config.digest), source: "config of \(reference)")
        if let platform, !fromIndex {
            let actual = Platform(os: config.os, architecture: config.architecture, variant: config.variant)
            guard actual.matches(platform) else {
                throw RegistryError.noMatchingPlatform(wanted: platform.description, available: [actual.description])
            }
        }
        let expected = try Self.expectedDiffIDs(manifest: manifest, config: config, reference: reference)
        let facts = LayerFacts()
        try await forEachConcurrently(manifest.layers) { descriptor in
            try await fetchOne(descriptor)
            if let record = try await Self.verifiedRecord(descriptor, diffID: expected[descriptor.digest], in: store,
                                                          reference: reference) {
                facts.add(record)
            }
        }
        let tags = reference.digest == nil ? [reference] : []
        let image = try store.putImage(manifest: Array(fetched.data), tags: tags, layers: facts.all)
        progress?("\(reference.familiar): stored \(fetched.digest)")
        let c = counters.snapshot
        return PullResult(image: image, reference: reference, manifestDigest: fetched.digest,
                          downloadedBytes: c.bytes, fetchedBlobs: c.transferred, skippedBlobs: c.skipped)
    }

    /// The image `reference` names, from the store, pulling it first when it is missing (or
    /// always re-checking the registry with `pull: true`, which downloads only what changed).
    /// For the build engine's `FROM`.
    public func ensureImage(_ reference: ImageReference, in store: ImageStore, platform: Platform? = nil,
                            pull: Bool = false) async throws -> StoredImage {
        if !pull, let image = try? store.resolve(reference.description),
           platform.map({ image.platform.matches($0) }) ?? true {
            return image
        }
        return try await self.pull(reference, into: store, platform: platform).image
    }

    // MARK: - Push

    /// Pushes the stored image `source` (a name or ID the store resolves) to `destination`
    /// (default: `source` itself as a reference). Blobs the registry has are skipped; blobs
    /// another repository of the same registry has (per the image's tags) are mounted.
    @discardableResult
    public func push(_ source: String, to destination: ImageReference? = nil, from store: ImageStore) async throws -> PushResult {
        let image = try store.resolve(source)
        var target: ImageReference
        if let destination {
            target = destination
        } else {
            target = try ImageReference(parsing: source)
        }
        if target.tag == nil && target.digest == nil { target = target.with(tag: ImageReference.defaultTag) }
        let manifestBytes = try store.readBlob(image.manifestDigest)
        let manifest = try ImageManifest.decode(manifestBytes, source: "manifest \(image.manifestDigest)")
        let client = try access.client(for: target.domain)
        let repo = target.path
        let mountFrom = image.tags.first { $0.domain == target.domain && $0.path != repo }?.path
        let counters = TransferCounters()
        try await forEachConcurrently([manifest.config] + manifest.layers) { descriptor in
            let label = descriptor.digest.short
            guard store.hasBlob(descriptor.digest) else {
                throw RegistryError.io("blob \(descriptor.digest) of \(source) is not in the local store; pull or rebuild the image")
            }
            let result: RegistryClient.BlobPushResult
            do {
                result = try await client.pushBlob(repository: repo, digest: descriptor.digest, size: descriptor.size,
                                                   from: URL(fileURLWithPath: store.blobPath(descriptor.digest)),
                                                   mountFrom: mountFrom)
            } catch StoreError.corruptBlob(let digest, _, let cause) {
                // Hashed on the way out: name the image and the layer, not just the blob.
                throw StoreError.corruptBlob(digest, what: ImageStore.blobRole(digest, in: image), cause: cause)
            }
            switch result {
            case .alreadyPresent: counters.skip(); progress?("\(label): already exists")
            case .mounted: counters.mount(); progress?("\(label): mounted from \(mountFrom ?? "?")")
            case .uploaded: counters.fetched(descriptor.size); progress?("\(label): pushed \(Self.format(descriptor.size))")
            }
        }
        let reference = target.digest?.description ?? target.tag ?? ImageReference.defaultTag
        let digest = try await client.putManifest(repository: repo, reference: reference, data: Data(manifestBytes),
                                                  mediaType: manifest.mediaType ?? image.manifestMediaType)
        progress?("\(target.familiar): digest: \(digest) size: \(manifestBytes.count)")
        let c = counters.snapshot
        return PushResult(reference: target, manifestDigest: digest, uploadedBlobs: c.transferred, mountedBlobs: c.mounted,
                          skippedBlobs: c.skipped, uploadedBytes: c.bytes)
    }

    // MARK: - Layer facts

    /// The diff_id the config lists for each layer blob. A manifest and config that disagree on
    /// the layer count, or that give one blob two diff_ids, are refused before anything is recorded.
    static func expectedDiffIDs(manifest: ImageManifest, config: ImageConfig,
                                reference: ImageReference) throws -> [Digest: Digest] {
        let diffIDs = config.rootfs.diffIDs
        guard diffIDs.count == manifest.layers.count else {
            throw RegistryError.protocolViolation("\(reference): the manifest lists \(manifest.layers.count) layers but its config has \(diffIDs.count) diff_ids")
        }
        var expected: [Digest: Digest] = [:]
        for (layer, diffID) in zip(manifest.layers, diffIDs) {
            if let other = expected[layer.digest], other != diffID {
                throw RegistryError.protocolViolation("\(reference): layer \(layer.digest) is listed with two diff_ids (\(other), \(diffID))")
            }
            expected[layer.digest] = diffID
        }
        return expected
    }

    /// The store's facts for a pulled layer: decompresses and hashes the blob (on a dispatch
    /// queue, not the cooperative pool: it is CPU-bound) to learn its diff_id and uncompressed
    /// size, and refuses a diff_id the config does not list, so `images` and `history` show
    /// docker's uncompressed sizes and a lying config never reaches the store. A layer the store
    /// already measured is not decompressed again; a media type that is not a known layer
    /// compression is left to the store's defaults.
    static func verifiedRecord(_ layer: Descriptor, diffID want: Digest?, in store: ImageStore,
                               reference: ImageReference) async throws -> LayerRecord? {
        guard let want, MediaType.layerCompression(layer.mediaType) != nil else { return nil }
        if let known = try store.layerRecord(digest: layer.digest), known.diffID == want, let size = known.uncompressedSize {
            return LayerRecord(digest: layer.digest, diffID: want, size: layer.size, uncompressedSize: size, mediaType: layer.mediaType)
        }
        let measured = try await offPool { try store.measureLayer(layer.digest, mediaType: layer.mediaType) }
        guard measured.diffID == want else {
            throw RegistryError.digestMismatch(expected: want, actual: measured.diffID,
                                               what: "\(reference): uncompressed layer \(layer.digest) (diff_id from the image config)")
        }
        return LayerRecord(digest: layer.digest, diffID: want, size: layer.size, uncompressedSize: measured.size,
                           mediaType: layer.mediaType)
    }

    /// Runs blocking, CPU-bound `work` on a global dispatch queue so it does not hold one of the
    /// few cooperative threads other transfers need.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            DispatchQueue.global(qos: .utility).async { continuation.resume(with: Result { try work() }) }
        }
    }

    // MARK: - Helpers

    /// Runs `body` for every descriptor (duplicates once), at most `concurrency` at a time;
    /// the first error cancels the rest.
    private func forEachConcurrently(_ descriptors: [Descriptor],
                                     _ body: @escaping @Sendable (Descriptor) async throws -> Void) async throws {
        var seen = Set<Digest>()
        let unique = descriptors.filter { seen.insert($0.digest).inserted }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            while next < unique.count && next < concurrency {
                let d = unique[next]
                group.addTask { try await body(d) }
                next += 1
            }
            while try await group.next() != nil {
                if next < unique.count {
                    let d = unique[next]
                    group.addTask { try await body(d) }
                    next += 1
                }
            }
        }
    }

    /// `12.3 MB`: decimal units, as docker prints sizes.
    public static func format(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}

/// Layer records measured by concurrent fetches.
private final class LayerFacts: @unchecked Sendable {
    private let lock = NSLock()
    private var records: [LayerRecord] = []

    func add(_ record: LayerRecord) { lock.withLock { records.append(record) } }
    var all: [LayerRecord] { lock.withLock { records } }
}

/// Thread-safe tallies for concurrent transfers.
private final class TransferCounters: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: Int64 = 0
    private var transferred = 0
    private var skipped = 0
    private var mounted = 0

    func fetched(_ n: Int64) { lock.withLock { bytes += n; transferred += 1 } }
    func skip() { lock.withLock { skipped += 1 } }
    func mount() { lock.withLock { mounted += 1 } }
    var snapshot: (bytes: Int64, transferred: Int, skipped: Int, mounted: Int) {
        lock.withLock { (bytes, transferred, skipped, mounted) }
    }
}

/// Emits a progress line when a download crosses 25%, 50% and 75%.
private final class QuarterReporter: @unchecked Sendable {
    private let lock = NSLock()
    private let label: String
    private let total: Int64
    private let sink: (@Sendable (String) -> Void)?
    private var quarter = 0

    init(label: String, total: Int64, sink: (@Sendable (String) -> Void)?) {
        self.label = label
        self.total = total
        self.sink = sink
    }

    func report(_ done: Int64) {
        guard total > 0, let sink else { return }
        let q = Int(done * 4 / total)
        let crossed: Int? = lock.withLock {
            guard q > quarter, q < 4 else { return nil }
            quarter = q
            return q
        }
        if let crossed { sink("\(label): \(crossed * 25)% of \(ImageTransfer.format(total))") }
    }
}
