import Foundation
import OCI

/// A registry repository as an `ImageSource` (`pull`): manifests by tag or digest, blobs
/// streamed with resume and retry, verified by the receiver.
public struct RegistryImageSource: ImageSource {
    public let client: RegistryClient
    public let repository: String
    let name: String

    public init(client: RegistryClient, repository: String) {
        self.client = client
        self.repository = repository
        self.name = "\(client.host.name)/\(repository)"
    }

    public var description: String { name }

    public func manifest(_ reference: String) async throws -> SourceManifest {
        let fetched = try await client.fetchManifest(repository: repository, reference: reference)
        return SourceManifest(bytes: Array(fetched.data), mediaType: fetched.mediaType, digest: fetched.digest)
    }

    public func fetchBlob(_ descriptor: Descriptor, into receiver: any BlobReceiver,
                          progress: (@Sendable (Int64) -> Void)?) async throws -> Int64 {
        try await client.fetchBlob(repository: repository, digest: descriptor.digest, size: descriptor.size,
                                   into: receiver, progress: progress)
    }
}
