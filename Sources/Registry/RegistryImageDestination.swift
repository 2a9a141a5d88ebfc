import Foundation
import OCI

/// A registry repository as an `ImageDestination` (`push`): a blob the registry has is
/// skipped, one another repository of the same registry has (`mountFrom`) is mounted, others
/// are uploaded from the source's local file (hashed on the way: a corrupt blob is never
/// completed) or, for a source without files, through a temporary file.
public struct RegistryImageDestination: ImageDestination {
    public let client: RegistryClient
    public let repository: String
    /// A repository of the same registry that may hold the blobs (the image's other tags there).
    public var mountFrom: String?
    /// Where a blob from a source without local files waits before its upload.
    public var temporaryDirectory: String

    public init(client: RegistryClient, repository: String, mountFrom: String? = nil,
                temporaryDirectory: String = FileManager.default.temporaryDirectory.path) {
        self.client = client
        self.repository = repository
        self.mountFrom = mountFrom
        self.temporaryDirectory = temporaryDirectory
    }

    public var description: String { "\(client.host.name)/\(repository)" }

    public func hasBlob(_ descriptor: Descriptor) async throws -> Bool {
        try await client.blobExists(repository: repository, digest: descriptor.digest) != nil
    }

    public func putBlob(_ descriptor: Descriptor, from source: any ImageSource,
                        progress: (@Sendable (Int64) -> Void)?) async throws -> BlobPut {
        var file = source.localFile(of: descriptor)
        var temporary: String?
        defer { if let temporary { unlink(temporary) } }
        if file == nil {
            let path = temporaryDirectory + "/slipway-push-\(getpid())-\(UUID().uuidString)"
            temporary = path
            let receiver = try FileBlobTarget(path: path)
            _ = try await source.fetchBlob(descriptor, into: receiver, progress: nil)
            file = path
        }
        guard let file else { throw RegistryError.io("no file for blob \(descriptor.digest)") }
        let result = try await client.pushBlob(repository: repository, digest: descriptor.digest, size: descriptor.size,
                                               from: URL(fileURLWithPath: file), mountFrom: mountFrom, checkExisting: false)
        switch result {
        case .mounted: return .mounted(from: mountFrom ?? "?")
        case .alreadyPresent, .uploaded: return .copied(descriptor.size)
        }
    }

    public func putManifest(_ manifest: SourceManifest, parsed: ImageManifest, config: ImageConfig,
                            names: [ImageReference], reference: String) async throws -> Digest {
        try await client.putManifest(repository: repository, reference: reference, data: Data(manifest.bytes),
                                     mediaType: parsed.mediaType ?? manifest.mediaType)
    }
}
