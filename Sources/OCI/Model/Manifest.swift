/// An image manifest: OCI `application/vnd.oci.image.manifest.v1+json` or Docker v2 schema 2
/// (`application/vnd.docker.distribution.manifest.v2+json`); both share this shape.
public struct ImageManifest: Codable, Hashable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var artifactType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(format: ManifestFormat = .oci, config: Descriptor, layers: [Descriptor],
                annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = format == .oci ? MediaType.ociManifest : MediaType.dockerManifest
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }

    /// The dialect of this manifest (a missing mediaType means OCI).
    public var format: ManifestFormat { mediaType == MediaType.dockerManifest ? .docker : .oci }

    /// The same manifest with every media type rewritten into `format`.
    public func converted(to format: ManifestFormat) -> ImageManifest {
        var m = self
        m.mediaType = format == .oci ? MediaType.ociManifest : MediaType.dockerManifest
        m.config.mediaType = MediaType.convert(config.mediaType, to: format)
        m.layers = layers.map { var d = $0; d.mediaType = MediaType.convert(d.mediaType, to: format); return d }
        return m
    }

    /// Decodes and validates a manifest: schema version 2, known config and layer media types.
    public static func decode(_ data: [UInt8], source: String = "manifest") throws -> ImageManifest {
        let m: ImageManifest
        do {
            m = try CanonicalJSON.decode(ImageManifest.self, from: data)
        } catch {
            throw ModelError.badJSON(what: source, reason: CanonicalJSON.describe(error))
        }
        guard m.schemaVersion == 2 else {
            throw ModelError.unsupported(what: source, reason: "schemaVersion \(m.schemaVersion) (only 2 is supported)")
        }
        if let t = m.mediaType, !MediaType.isManifest(t) {
            throw ModelError.unknownMediaType(what: source, mediaType: t)
        }
        for layer in m.layers where MediaType.layerCompression(layer.mediaType) == nil {
            throw ModelError.unknownMediaType(what: "\(source) layer \(layer.digest)", mediaType: layer.mediaType)
        }
        return m
    }
}

/// An image index: OCI `application/vnd.oci.image.index.v1+json` or a Docker manifest list.
public struct ImageIndex: Codable, Hashable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var artifactType: String?
    public var manifests: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(format: ManifestFormat = .oci, manifests: [Descriptor], annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = format == .oci ? MediaType.ociIndex : MediaType.dockerManifestList
        self.manifests = manifests
        self.annotations = annotations
    }

    public static func decode(_ data: [UInt8], source: String = "index") throws -> ImageIndex {
        let i: ImageIndex
        do {
            i = try CanonicalJSON.decode(ImageIndex.self, from: data)
        } catch {
            throw ModelError.badJSON(what: source, reason: CanonicalJSON.describe(error))
        }
        guard i.schemaVersion == 2 else {
            throw ModelError.unsupported(what: source, reason: "schemaVersion \(i.schemaVersion) (only 2 is supported)")
        }
        if let t = i.mediaType, !MediaType.isIndex(t) {
            throw ModelError.unknownMediaType(what: source, mediaType: t)
        }
        return i
    }

    /// The manifest descriptor that best fits `platform`: an exact variant match first, then any
    /// match; nil when none fits. Descriptors without a platform match anything.
    public func bestManifest(for platform: Platform) -> Descriptor? {
        let images = manifests.filter { MediaType.isManifest($0.mediaType) || MediaType.isIndex($0.mediaType) }
        if let exact = images.first(where: { $0.platform?.normalized == platform.normalized }) { return exact }
        return images.first(where: { $0.platform.map { $0.matches(platform) } ?? true })
    }
}

/// Errors from reading image metadata; each names what was being read.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case badJSON(what: String, reason: String)
    case unknownMediaType(what: String, mediaType: String)
    case unsupported(what: String, reason: String)

    public var description: String {
        switch self {
        case .badJSON(let what, let reason): return "\(what) is not valid JSON for its type: \(reason)"
        case .unknownMediaType(let what, let t): return "\(what) has unknown media type '\(t)'"
        case .unsupported(let what, let reason): return "\(what) is not supported: \(reason)"
        }
    }
}
