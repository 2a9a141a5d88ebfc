/// Media types of the OCI image spec and of Docker's v2 schema 2, the two dialects Slipway reads.
/// Slipway writes the OCI ones unless Docker ones are asked for (`save --format docker`).
public enum MediaType {
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let ociLayerNondistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar"
    public static let ociLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    public static let ociLayerNondistributableZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
    public static let ociEmpty = "application/vnd.oci.empty.v1+json"

    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayer = "application/vnd.docker.image.rootfs.diff.tar"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerLayerZstd = "application/vnd.docker.image.rootfs.diff.tar.zstd"
    public static let dockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    /// The compression of a layer media type, or nil when the type is not a layer type Slipway knows.
    public static func layerCompression(_ mediaType: String) -> LayerCompression? {
        switch mediaType {
        case ociLayer, ociLayerNondistributable, dockerLayer: return LayerCompression.none
        case ociLayerGzip, ociLayerNondistributableGzip, dockerLayerGzip, dockerForeignLayerGzip: return .gzip
        case ociLayerZstd, ociLayerNondistributableZstd, dockerLayerZstd: return .zstd
        default: return nil
        }
    }

    public static func isManifest(_ t: String) -> Bool { t == ociManifest || t == dockerManifest }
    public static func isIndex(_ t: String) -> Bool { t == ociIndex || t == dockerManifestList }
    public static func isConfig(_ t: String) -> Bool { t == ociConfig || t == dockerConfig }

    /// The layer media type for a compression in the chosen dialect.
    public static func layer(_ compression: LayerCompression, format: ManifestFormat) -> String {
        switch (format, compression) {
        case (.oci, .none): return ociLayer
        case (.oci, .gzip): return ociLayerGzip
        case (.oci, .zstd): return ociLayerZstd
        case (.docker, .none): return dockerLayer
        case (.docker, .gzip): return dockerLayerGzip
        case (.docker, .zstd): return dockerLayerZstd
        }
    }

    /// Converts a known media type into the other dialect (types without a counterpart pass through).
    public static func convert(_ mediaType: String, to format: ManifestFormat) -> String {
        if let c = layerCompression(mediaType) { return layer(c, format: format) }
        switch (format, mediaType) {
        case (.docker, ociManifest): return dockerManifest
        case (.docker, ociIndex): return dockerManifestList
        case (.docker, ociConfig): return dockerConfig
        case (.oci, dockerManifest): return ociManifest
        case (.oci, dockerManifestList): return ociIndex
        case (.oci, dockerConfig): return ociConfig
        default: return mediaType
        }
    }
}

/// Which dialect of media types a manifest is written in.
public enum ManifestFormat: String, Sendable, Codable, CaseIterable {
    case oci, docker
}
