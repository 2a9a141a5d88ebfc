import Foundation

/// One manifest or index as a source holds it: the exact bytes (their digest is the image's
/// identity) and the media type they were served with.
public struct SourceManifest: Sendable {
    public var bytes: [UInt8]
    public var mediaType: String
    public var digest: Digest

    public init(bytes: [UInt8], mediaType: String, digest: Digest) {
        self.bytes = bytes
        self.mediaType = mediaType
        self.digest = digest
    }

    public var isIndex: Bool { MediaType.isIndex(mediaType) }
}

/// Where images come from — a registry, an OCI image layout directory, the local store — as
/// apple/swift-container-plugin's `ImageSource`. `ImageCopy` reads one image from a source
/// into an `ImageDestination`; the source knows its format, the copy knows none.
public protocol ImageSource: Sendable {
    /// What the source is, for messages: "127.0.0.1:5000/app", "OCI layout ./out".
    var description: String { get }
    /// The manifest or index `reference` names: a tag, or a digest (`sha256:…`).
    func manifest(_ reference: String) async throws -> SourceManifest
    /// Streams a blob into `receiver` and finalizes it against the descriptor's digest and size
    /// (a source that can resume or retry does so, restarting the receiver). Returns the bytes
    /// moved; throws when the content does not match.
    func fetchBlob(_ descriptor: Descriptor, into receiver: any BlobReceiver,
                   progress: (@Sendable (Int64) -> Void)?) async throws -> Int64
    /// A local file that holds the blob, when the source has one: a destination can then
    /// upload or copy it without an intermediate copy.
    func localFile(of descriptor: Descriptor) -> String?
    /// A layer's diff ID and uncompressed size when the source already knows them (the store
    /// measured them once), so a destination that needs them (a docker-archive) need not
    /// decompress the layer twice; nil: measure.
    func layerFacts(_ descriptor: Descriptor) throws -> (diffID: Digest, size: Int64)?
    /// What a blob is, for errors ("layer 2 of 3 of image app:1").
    func role(of descriptor: Descriptor) -> String
}

extension ImageSource {
    public func localFile(of descriptor: Descriptor) -> String? { nil }
    public func layerFacts(_ descriptor: Descriptor) throws -> (diffID: Digest, size: Int64)? { nil }
    public func role(of descriptor: Descriptor) -> String { "blob \(descriptor.digest) of \(description)" }

    /// A small blob (config, manifest) read into memory and checked against its digest.
    public func readBlob(_ descriptor: Descriptor) async throws -> [UInt8] {
        let receiver = MemoryBlobReceiver()
        _ = try await fetchBlob(descriptor, into: receiver, progress: nil)
        return receiver.bytes
    }
}

/// What putting one blob into a destination did.
public enum BlobPut: Sendable, Equatable {
    /// Copied: this many bytes moved.
    case copied(Int64)
    /// The destination made it available without the bytes (a registry's cross-repository mount).
    case mounted(from: String)
}

/// Where images go — the local store, a registry. Blobs first (config, layers), the manifest
/// last, so that a destination never names content it does not hold.
public protocol ImageDestination: Sendable {
    var description: String { get }
    /// Whether blobs must come one at a time (one output stream, such as a tar archive).
    var sequential: Bool { get }
    /// Whether the destination already holds the blob (then it is not copied). A store also
    /// leases it, so a concurrent GC cannot take it before the manifest names it.
    func hasBlob(_ descriptor: Descriptor) async throws -> Bool
    /// Copies the blob from `source`.
    func putBlob(_ descriptor: Descriptor, from source: any ImageSource,
                 progress: (@Sendable (Int64) -> Void)?) async throws -> BlobPut
    /// Publishes the image: its manifest (whose blobs are all there by now) under `names`.
    /// `reference` is the tag or digest the copy was asked for. Returns the manifest's digest
    /// as the destination stored it.
    func putManifest(_ manifest: SourceManifest, parsed: ImageManifest, config: ImageConfig,
                     names: [ImageReference], reference: String) async throws -> Digest
    /// A small blob the destination now holds, read back without the network (the config the
    /// copy must parse); nil when reading it back costs as much as fetching it from the source.
    func readBack(_ descriptor: Descriptor) throws -> [UInt8]?
}

extension ImageDestination {
    public var sequential: Bool { false }
    public func readBack(_ descriptor: Descriptor) throws -> [UInt8]? { nil }
}
