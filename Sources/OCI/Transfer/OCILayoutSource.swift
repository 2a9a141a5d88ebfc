import Foundation
import System

/// An OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/…`) as an
/// `ImageSource`: what `buildx --output type=oci` or `skopeo copy … oci:DIR` write, read by
/// `--build-context NAME=oci-layout://DIR[:TAG|@DIGEST]`. The one reader of that format.
public struct OCILayoutSource: ImageSource {
    public let directory: String
    let index: ImageIndex

    /// Reads `directory/index.json`; an error names the directory when it is not a layout.
    public init(directory: String) throws {
        self.directory = directory
        let indexPath = directory + "/index.json"
        guard FileSystem.exists(indexPath) else {
            throw StoreError.invalid("\(directory): not an OCI image layout (no index.json)")
        }
        index = try ImageIndex.decode(try StoreError.wrapping { try FileIO.readFile(indexPath) }, source: indexPath)
    }

    public var description: String { "OCI layout \(directory)" }

    public func blobPath(_ digest: Digest) -> String { directory + "/blobs/" + digest.algorithm + "/" + digest.encoded }

    /// `reference`: a digest (any manifest or index in the layout), a tag (the index entry whose
    /// `org.opencontainers.image.ref.name` or `io.containerd.image.name` names it), or
    /// `latest` for a layout of one image. A layout of several untagged images is itself an
    /// index: the copy picks the platform.
    public func manifest(_ reference: String) async throws -> SourceManifest { try resolve(reference) }

    /// `manifest(_:)` without suspending, for synchronous readers (`analyze` of a layout).
    public func resolve(_ reference: String) throws -> SourceManifest {
        if let digest = try? Digest(parsing: reference) {
            let entry = index.manifests.first { $0.digest == digest }
            return try read(digest, mediaType: entry?.mediaType)
        }
        let tagged = index.manifests.filter { d in
            let names = [d.annotations?[AnnotationKey.refName], d.annotations?[AnnotationKey.containerdImageName]].compactMap { $0 }
            return names.contains { $0 == reference || $0.hasSuffix(":" + reference) }
        }
        if let entry = tagged.first { return try read(entry.digest, mediaType: entry.mediaType) }
        if reference == ImageReference.defaultTag {
            if index.manifests.count == 1, let only = index.manifests.first { return try read(only.digest, mediaType: only.mediaType) }
            if !index.manifests.isEmpty {
                let bytes = try StoreError.wrapping { try FileIO.readFile(directory + "/index.json") }
                return SourceManifest(bytes: bytes, mediaType: index.mediaType ?? MediaType.ociIndex, digest: Digest.sha256(Data(bytes)))
            }
        }
        let known = index.manifests.compactMap { $0.annotations?[AnnotationKey.refName] }
        throw StoreError.invalid("\(description) has no image '\(reference)'"
                                 + (known.isEmpty ? "" : " (its tags: \(known.joined(separator: ", ")))"))
    }

    /// The single-platform image `reference` names, an index resolved to `platform` (nested
    /// indexes followed a few levels): its manifest and config, read and verified.
    public func image(_ reference: String = ImageReference.defaultTag, platform: Platform = .host) throws -> (manifest: ImageManifest, config: ImageConfig) {
        var fetched = try resolve(reference)
        for _ in 0..<4 where fetched.isIndex {
            let nested = try ImageIndex.decode(fetched.bytes, source: "\(description): index \(fetched.digest)")
            guard let chosen = nested.bestManifest(for: platform) ?? nested.manifests.first else {
                throw StoreError.invalid("\(description): index \(fetched.digest) lists no manifest")
            }
            fetched = try read(chosen.digest, mediaType: chosen.mediaType)
        }
        guard !fetched.isIndex else { throw StoreError.invalid("\(description): nested indexes too deep") }
        let manifest = try ImageManifest.decode(fetched.bytes, source: "\(description): manifest \(fetched.digest)")
        let config = try ImageConfig.decode(try read(manifest.config.digest, mediaType: manifest.config.mediaType).bytes,
                                            source: "\(description): config \(manifest.config.digest)")
        return (manifest, config)
    }

    private func read(_ digest: Digest, mediaType: String?) throws -> SourceManifest {
        let path = blobPath(digest)
        guard FileSystem.exists(path) else { throw StoreError.invalid("\(description): blob \(digest) is missing") }
        let bytes = try StoreError.wrapping { try FileIO.readFile(path) }
        let actual = Digest.sha256(Data(bytes))
        guard actual == digest else {
            throw StoreError.digestMismatch(expected: digest, actual: actual, what: "\(description): manifest \(digest)")
        }
        var type = mediaType
        if type == nil, let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] {
            type = object["mediaType"] as? String
        }
        return SourceManifest(bytes: bytes, mediaType: type ?? MediaType.ociManifest, digest: digest)
    }

    public func fetchBlob(_ descriptor: Descriptor, into receiver: any BlobReceiver,
                          progress: (@Sendable (Int64) -> Void)?) async throws -> Int64 {
        let path = blobPath(descriptor.digest)
        let what = "\(description): blob \(descriptor.digest)"
        return try await runOffPool {
            guard FileSystem.exists(path) else { throw StoreError.invalid("\(what) is missing") }
            return try receiver.receive(file: path, as: descriptor, what: what, progress: progress) { actual in
                StoreError.digestMismatch(expected: descriptor.digest, actual: actual, what: what)
            }
        }
    }

    public func localFile(of descriptor: Descriptor) -> String? {
        let path = blobPath(descriptor.digest)
        return FileSystem.exists(path) ? path : nil
    }
}
