import Foundation
#if canImport(Glibc)
import Glibc
#endif
import System

/// A root filesystem tarball (plain, gzip or zstd; `-`: standard input) as a one-image
/// `ImageSource` (`slipway import`): `stage` checks the tar as it streams (every entry must be
/// extractable inside a root), compresses it into a layer in the store's content, and makes
/// the image's config (its platform, a history entry) and manifest, which the copy then
/// records like any other image's.
public final class RootfsImageSource: ImageSource, @unchecked Sendable {
    public let path: String
    let store: ImageStore
    /// The image's manifest and config (held here until the copy stores them).
    public let manifest: SourceManifest
    private let configBytes: [UInt8]
    private let configDescriptor: Descriptor
    private let layer: LayerRecord

    private init(path: String, store: ImageStore, manifest: SourceManifest, config: [UInt8], configDescriptor: Descriptor, layer: LayerRecord) {
        self.path = path
        self.store = store
        self.manifest = manifest
        self.configBytes = config
        self.configDescriptor = configDescriptor
        self.layer = layer
    }

    public var description: String { "root filesystem tarball \(path == "-" ? "<stdin>" : path)" }

    public static func stage(_ path: String, into store: ImageStore, compression: LayerCompression, platform: Platform,
                             created: Date, message: String?) throws -> RootfsImageSource {
        let file = try FileSource.input(path)
        let tmp = try store.makeTemporaryDirectory()
        defer { store.removeTemporaryDirectory(tmp) }
        let blob: LayerBlob
        do {
            let writer = LayerWriter(options: LayerWriter.Options(compression: compression))
            blob = try writer.write(tarStream: try AutoDecompressor(from: file), into: tmp, check: checkExtractable)
        } catch ArchiveError.system(let e) where e.path != file.path {
            // A failure writing the store (a full disk) is not the tarball's fault: say which.
            throw StoreError.io(path: e.path, operation: "importing \(path): \(e.operation)", errno: e.errno)
        } catch {
            throw StoreError.invalid("\(path): not a valid root filesystem tarball: \(error)")
        }
        let layer = try store.adoptLayer(blob)
        do {
            let when = Timestamp.format(created)
            let name = path == "-" ? "-" : (path as NSString).lastPathComponent
            let config = ImageConfig(platform: platform, created: when, config: ContainerConfig(), diffIDs: [layer.diffID],
                                     history: [History(created: when, comment: message ?? "Imported from \(name)")])
            let image = try ImageStore.encodeImage(config: config, layers: [layer])
            let manifest = SourceManifest(bytes: image.manifest, mediaType: MediaType.ociManifest, digest: Digest.sha256(Data(image.manifest)))
            return RootfsImageSource(path: path, store: store, manifest: manifest, config: image.config,
                                     configDescriptor: image.configDescriptor, layer: layer)
        } catch {
            try? store.discardUnreferenced([layer.digest])
            throw error
        }
    }

    /// Drops this process's lease on the layer (kept once the image is recorded).
    public func discardStaged() {
        try? store.discardUnreferenced([layer.digest])
    }

    public func manifest(_ reference: String) async throws -> SourceManifest { manifest }

    public func fetchBlob(_ descriptor: Descriptor, into receiver: any BlobReceiver,
                          progress: (@Sendable (Int64) -> Void)?) async throws -> Int64 {
        let what = "\(description): \(descriptor.digest == configDescriptor.digest ? "config" : "layer")"
        if descriptor.digest == configDescriptor.digest {
            try configBytes.withUnsafeBytes { try receiver.append($0) }
            let actual = try receiver.finalize(expected: descriptor.digest, size: descriptor.size, what: what)
            guard actual == descriptor.digest else {
                receiver.abort()
                throw StoreError.digestMismatch(expected: descriptor.digest, actual: actual, what: what)
            }
            return Int64(configBytes.count)
        }
        let content = store.content
        return try await runOffPool {
            try receiver.receive(file: content.blobPath(descriptor.digest), as: descriptor, what: what, progress: progress) { actual in
                StoreError.digestMismatch(expected: descriptor.digest, actual: actual, what: what)
            }
        }
    }

    public func layerFacts(_ descriptor: Descriptor) throws -> (diffID: Digest, size: Int64)? {
        guard descriptor.digest == layer.digest, let size = layer.uncompressedSize else { return nil }
        return (layer.diffID, size)
    }

    public func localFile(of descriptor: Descriptor) -> String? {
        descriptor.digest == layer.digest ? store.content.blobPath(layer.digest) : nil
    }
}
