import Foundation

/// An image as the store knows it: its manifest, config and layers, and the names pointing at it.
public struct StoredImage: Hashable, Sendable {
    /// Digest of the manifest blob; names and `@digest` references point here.
    public var manifestDigest: Digest
    /// Digest of the config blob: what `docker images` calls the IMAGE ID.
    public var configDigest: Digest
    public var manifestMediaType: String
    public var manifestSize: Int64
    /// Layer blob digests, bottom first.
    public var layers: [Digest]
    /// Sum of the layers' uncompressed sizes (what `docker images` shows as SIZE).
    public var size: Int64
    /// Sum of the blobs' stored sizes (manifest, config, compressed layers).
    public var storedSize: Int64
    public var created: String?
    public var platform: Platform
    public var tags: [ImageReference]
    public var addedAt: Date
    public var lastUsed: Date

    /// `sha256:<config hex>`, the image ID.
    public var id: Digest { configDigest }
    public var createdDate: Date? { created.flatMap(Timestamp.parse) }
}

/// What the store knows of one layer blob.
public struct LayerRecord: Hashable, Sendable, Codable {
    /// Digest of the blob as stored (compressed when compressed).
    public var digest: Digest
    /// Digest of the uncompressed tar: the `rootfs.diff_ids` entry.
    public var diffID: Digest
    /// Size of the blob as stored.
    public var size: Int64
    /// Size of the uncompressed tar, nil when not (yet) measured.
    public var uncompressedSize: Int64?
    public var mediaType: String

    public init(digest: Digest, diffID: Digest, size: Int64, uncompressedSize: Int64?, mediaType: String) {
        self.digest = digest
        self.diffID = diffID
        self.size = size
        self.uncompressedSize = uncompressedSize
        self.mediaType = mediaType
    }

    public var descriptor: Descriptor { Descriptor(mediaType: mediaType, digest: digest, size: size) }
}

/// A build-cache entry: a step's cache key and what the step produced — a layer (nil for steps
/// that only change the config, like ENV) and a JSON document the build engine defines (e.g. the
/// config delta and history entry). The store keeps the layer alive while the record exists.
public struct CacheRecord: Hashable, Sendable {
    /// The digest of the step's typed cache key (the build engine's `CacheKey`).
    public var key: Digest
    public var layer: Digest?
    public var result: String
    public var createdAt: Date
    public var lastUsed: Date
    /// Where the record came from: nil for one a build in this store wrote; for one that
    /// `--cache-from` imported, the cache's name (`127.0.0.1:5000/cache:1`, a directory). Kept
    /// with the record (`cache_records.origin`, migration `v4-cache-origin`): the first record
    /// for a key wins, so a key built here before an import stays local.
    public var origin: String?

    public init(key: Digest, layer: Digest?, result: String, createdAt: Date = Date(), lastUsed: Date = Date(),
                origin: String? = nil) {
        self.key = key
        self.layer = layer
        self.result = result
        self.createdAt = createdAt
        self.lastUsed = lastUsed
        self.origin = origin
    }
}
