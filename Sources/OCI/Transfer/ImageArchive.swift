import Foundation

/// One image to `save`, with the names to give it in the archive (none: saved by ID).
public struct SaveRequest: Sendable {
    public var image: StoredImage
    public var names: [ImageReference]

    public init(image: StoredImage, names: [ImageReference]) {
        self.image = image
        self.names = names
    }
}

/// An image `load` recorded, with the names the archive gave it.
public struct LoadedImage: Sendable {
    public var image: StoredImage
    public var names: [ImageReference]
}

/// `save`, `load` and `import` as copies: from the store to an `ArchiveImageDestination`,
/// from an `ArchiveImageSource` or a `RootfsImageSource` to the store — the same `ImageCopy`
/// that pulls and pushes, so every image that enters the store passes one check of its
/// manifest, config and layers, and every blob that leaves it is verified on the way.
public enum ImageArchive {
    /// `slipway save` and `build --output type=oci|docker`: writes images as one tar archive to
    /// `path` by the output rule (`OutputFile`: `-` is standard output, devices and symlinks
    /// are written through, a regular file is replaced atomically). A corrupt store blob fails
    /// the save (`StoreError.corruptBlob`, naming the image and the layer) and a file output is
    /// left as it was.
    public static func save(_ requests: [SaveRequest], from store: ImageStore, format: ManifestFormat, to path: String) async throws {
        guard !requests.isEmpty else { throw StoreError.invalid("nothing to save") }
        let output = try OutputFile(path, what: "the archive")
        do {
            let archive = ArchiveImageDestination(format: format, sink: output.sink, path: path)
            for r in requests {
                _ = try await ImageCopy(from: StoreImageSource(store: store, image: r.image), to: archive)
                    .copy(r.image.manifestDigest.description, names: r.names)
            }
            try archive.finish()
            try output.commit()
        } catch {
            output.discard()
            throw error
        }
    }

    /// `slipway load`: reads an OCI image layout archive or a docker-archive (`-`: standard
    /// input) and records its images. Every blob is verified as it streams in, every layer
    /// against its config's diff_id; the images are recorded only once all of them verified,
    /// and on an error none are and the blobs written so far are removed again.
    public static func load(_ path: String, into store: ImageStore) async throws -> [LoadedImage] {
        let archive = try ArchiveImageSource.stage(path, into: store)
        defer { archive.discardStaged() }
        let destination = StoreImageDestination(store: store, deferred: true)
        for image in archive.images {
            _ = try await ImageCopy(from: archive, to: destination).copy(image.manifest.digest.description, names: image.names)
        }
        return try zip(destination.publish(), archive.images).map { LoadedImage(image: $0, names: $1.names) }
    }

    /// `slipway import`: a one-layer image from a root filesystem tarball (plain, gzip or zstd;
    /// `-` reads standard input), checked as it streams and compressed into a layer
    /// (`RootfsImageSource`), then copied into the store like any other image.
    @discardableResult
    public static func importRootfs(from path: String, into store: ImageStore, tags: [ImageReference],
                                    compression: LayerCompression = .gzip, platform: Platform = .host,
                                    created: Date = Date(), message: String? = nil) async throws -> StoredImage {
        let source = try RootfsImageSource.stage(path, into: store, compression: compression, platform: platform,
                                                 created: created, message: message)
        defer { source.discardStaged() }
        let destination = StoreImageDestination(store: store)
        let result = try await ImageCopy(from: source, to: destination).copy(source.manifest.digest.description, names: tags)
        guard let image = try store.image(manifestDigest: result.manifestDigest) else {
            throw StoreError.database("image \(result.manifestDigest) vanished right after it was recorded")
        }
        return image
    }
}
