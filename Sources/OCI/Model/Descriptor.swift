/// A reference to content: media type, digest and size (OCI image-spec `descriptor.md`).
public struct Descriptor: Codable, Hashable, Sendable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var urls: [String]?
    public var annotations: [String: String]?
    public var platform: Platform?
    public var artifactType: String?
    /// Base64 of the content, embedded (rarely used; kept so foreign descriptors round-trip).
    public var data: String?

    public init(mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil,
                platform: Platform? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.platform = platform
    }
}

/// Annotation keys Slipway reads and writes.
public enum AnnotationKey {
    /// OCI: the tag or full reference of a manifest inside an image layout's index.json.
    public static let refName = "org.opencontainers.image.ref.name"
    /// containerd/Docker: the full image name inside an index.json.
    public static let containerdImageName = "io.containerd.image.name"
    public static let created = "org.opencontainers.image.created"
}
