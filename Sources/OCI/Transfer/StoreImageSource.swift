import Foundation
#if canImport(Glibc)
import Glibc
#endif
import System

/// The local store as a source (`push`): manifests by digest, or by any name the store
/// resolves (tag, ID, digest), and blobs straight from `blobs/sha256/`, checked against their
/// digest as they stream (a corrupt store blob is named, never sent on).
public struct StoreImageSource: ImageSource {
    public let store: ImageStore
    /// The stored image the copy reads; names the layers in errors.
    public let image: StoredImage

    /// `name`: what the user typed (a tag, an ID, a digest).
    public init(store: ImageStore, name: String) throws {
        self.store = store
        self.image = try store.resolve(name)
    }

    public init(store: ImageStore, image: StoredImage) {
        self.store = store
        self.image = image
    }

    public var description: String { "local image \(ImageStore.displayName(image))" }

    /// The image's own manifest, whatever the reference (the copy is of this one image).
    public func manifest(_ reference: String) async throws -> SourceManifest {
        SourceManifest(bytes: try store.content.readBlob(image.manifestDigest), mediaType: image.manifestMediaType,
                       digest: image.manifestDigest)
    }

    public func fetchBlob(_ descriptor: Descriptor, into receiver: any BlobReceiver,
                          progress: (@Sendable (Int64) -> Void)?) async throws -> Int64 {
        let (store, image) = (self.store, self.image)
        return try await runOffPool {
            let role = ImageStore.blobRole(descriptor.digest, in: image)
            guard store.content.hasBlob(descriptor.digest) else {
                throw StoreError.invalid("\(role): blob \(descriptor.digest) is not in the local store; pull or rebuild the image")
            }
            return try receiver.receive(file: store.content.blobPath(descriptor.digest), as: descriptor, what: role, progress: progress) { actual in
                StoreError.corruptBlob(descriptor.digest, what: role, cause: "its content hashes to \(actual)")
            }
        }
    }

    public func role(of descriptor: Descriptor) -> String { ImageStore.blobRole(descriptor.digest, in: image) }

    /// From the store's layer records (measured when the layer came in), else measured now.
    public func layerFacts(_ descriptor: Descriptor) throws -> (diffID: Digest, size: Int64)? {
        if let r = try store.layerRecord(digest: descriptor.digest), let size = r.uncompressedSize { return (r.diffID, size) }
        return nil
    }

    public func localFile(of descriptor: Descriptor) -> String? {
        store.content.hasBlob(descriptor.digest) ? store.content.blobPath(descriptor.digest) : nil
    }
}
