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
    /// an index; the host's platform by default. An `ImageCopy` from the registry to the store.
    @discardableResult
    public func pull(_ reference: ImageReference, into store: ImageStore, platform: Platform? = nil) async throws -> PullResult {
        let client = try access.client(for: reference.domain)
        let copy = ImageCopy(from: RegistryImageSource(client: client, repository: reference.path),
                             to: StoreImageDestination(store: store), concurrency: concurrency, progress: progress,
                             messages: .init(skipped: { "\($0.short): already present" },
                                             starting: { "\($0.digest.short): downloading \(ByteCount.format($0.size))" },
                                             copied: { "\($0.digest.short): done" },
                                             mounted: { "\($0.digest.short): mounted from \($1)" }))
        let tags = reference.digest == nil ? [reference] : []
        let result = try await copy.copy(reference.digest?.description ?? reference.tag ?? ImageReference.defaultTag,
                                         names: tags, platform: platform)
        guard let image = try store.image(manifestDigest: result.manifestDigest) else {
            throw StoreError.imageNotFound(result.manifestDigest.description)
        }
        try store.recordRepoDigest(image, repository: reference, digest: result.namedDigest ?? result.manifestDigest)
        progress?("\(reference.familiar): stored \(result.manifestDigest)")
        return PullResult(image: image, reference: reference, manifestDigest: result.manifestDigest,
                          downloadedBytes: result.bytes, fetchedBlobs: result.copiedBlobs, skippedBlobs: result.skippedBlobs)
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
    /// another repository of the same registry has (per the image's tags) are mounted. An
    /// `ImageCopy` from the store to the registry.
    @discardableResult
    public func push(_ source: String, to destination: ImageReference? = nil, from store: ImageStore) async throws -> PushResult {
        let from = try StoreImageSource(store: store, name: source)
        var target: ImageReference
        if let destination {
            target = destination
        } else {
            target = try ImageReference(parsing: source)
        }
        if target.tag == nil && target.digest == nil { target = target.with(tag: ImageReference.defaultTag) }
        let client = try access.client(for: target.domain)
        let repo = target.path
        let mountFrom = from.image.tags.first { $0.domain == target.domain && $0.path != repo }?.path
        let copy = ImageCopy(from: from,
                             to: RegistryImageDestination(client: client, repository: repo, mountFrom: mountFrom,
                                                          temporaryDirectory: store.tmpDirectory),
                             concurrency: concurrency, progress: progress,
                             messages: .init(skipped: { "\($0.short): already exists" },
                                             starting: { _ in nil },
                                             copied: { "\($0.digest.short): pushed \(ByteCount.format($0.size))" },
                                             mounted: { "\($0.digest.short): mounted from \($1)" }))
        let reference = target.digest?.description ?? target.tag ?? ImageReference.defaultTag
        let result: ImageCopyResult
        do {
            result = try await copy.copy(reference)
        } catch StoreError.corruptBlob(let digest, _, let cause) {
            // Hashed on the way out: name the image and the layer, not just the blob.
            throw StoreError.corruptBlob(digest, what: ImageStore.blobRole(digest, in: from.image), cause: cause)
        }
        try store.recordRepoDigest(from.image, repository: target, digest: result.manifestDigest)
        progress?("\(target.familiar): digest: \(result.manifestDigest) size: \(from.image.manifestSize)")
        return PushResult(reference: target, manifestDigest: result.manifestDigest, uploadedBlobs: result.copiedBlobs,
                          mountedBlobs: result.mountedBlobs, skippedBlobs: result.skippedBlobs, uploadedBytes: result.bytes)
    }
}
