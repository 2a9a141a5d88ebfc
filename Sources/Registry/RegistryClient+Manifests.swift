import Foundation
import HTTP
import OCI

/// A manifest or index as the registry served it: the exact bytes (digests are over these),
/// the media type and the verified digest.
public struct FetchedManifest: Sendable {
    public var data: Data
    public var mediaType: String
    public var digest: Digest

    /// OCI or Docker index / manifest list.
    public var isIndex: Bool { MediaType.isIndex(mediaType) }
}

/// The manifest media types the client asks for and understands.
/// What a manifest request accepts: every manifest and index type `OCI.MediaType` knows.
enum ManifestAccept {
    static let header = [MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList].joined(separator: ", ")
}

extension RegistryClient {
    /// `GET /v2/<repo>/manifests/<tag|digest>`. The body's sha256 is checked against the
    /// requested digest, or against `Docker-Content-Digest` when fetching by tag.
    public func fetchManifest(repository: String, reference: String) async throws -> FetchedManifest {
        let repo = try Self.repositoryPath(repository)
        let requested = try? Digest(parsing: reference)
        return try await options.retry.run { _ in
            let response = try await execute("GET", url(path: "/v2/\(repo)/manifests/\(reference)"),
                                              headers: ["Accept": ManifestAccept.header],
                                              scopes: [Self.pullScope(repo)])
            switch response.status {
            case 200: break
            case 404: throw RegistryError.notFound(what: "manifest '\(reference)'", registry: host.name, repository: repo)
            default: throw statusError(response, method: "GET")
            }
            let actual = Digest.sha256(response.body)
            let what = "manifest \(reference) of \(host.name)/\(repo)"
            if let requested, requested.algorithm == "sha256", requested != actual {
                throw RegistryError.digestMismatch(expected: requested, actual: actual, what: what)
            }
            if requested == nil, let header = response.header("docker-content-digest"),
               let claimed = try? Digest(parsing: header), claimed.algorithm == "sha256", claimed != actual {
                throw RegistryError.digestMismatch(expected: claimed, actual: actual, what: what)
            }
            let mediaType = Self.mediaType(of: response)
            return FetchedManifest(data: response.body, mediaType: mediaType, digest: actual)
        }
    }

    /// `HEAD /v2/<repo>/manifests/<reference>`: the digest the registry reports, or nil when the
    /// reference does not exist. Cheap check for "has the tag moved?".
    public func manifestDigest(repository: String, reference: String) async throws -> Digest? {
        let repo = try Self.repositoryPath(repository)
        return try await options.retry.run { _ in
            let response = try await execute("HEAD", url(path: "/v2/\(repo)/manifests/\(reference)"),
                                              headers: ["Accept": ManifestAccept.header],
                                              scopes: [Self.pullScope(repo)])
            switch response.status {
            case 200:
                return response.header("docker-content-digest").flatMap { try? Digest(parsing: $0) }
            case 404: return nil
            default: throw statusError(response, method: "HEAD")
            }
        }
    }

    /// `PUT /v2/<repo>/manifests/<tag|digest>` with the exact bytes; checks the registry's
    /// `Docker-Content-Digest` against sha256(data). Returns the manifest digest.
    @discardableResult
    public func putManifest(repository: String, reference: String, data: Data, mediaType: String) async throws -> Digest {
        let repo = try Self.repositoryPath(repository)
        let digest = Digest.sha256(data)
        return try await options.retry.run { _ in
            let response = try await execute("PUT", url(path: "/v2/\(repo)/manifests/\(reference)"),
                                              headers: ["Content-Type": mediaType, "Content-Length": String(data.count)],
                                              body: .data(data), scopes: [Self.pushScope(repo)])
            guard response.status == 201 || response.status == 200 else { throw statusError(response, method: "PUT") }
            if let returned = response.header("docker-content-digest"), returned != digest.description {
                throw RegistryError.protocolViolation("the registry stored manifest \(returned) for \(digest)")
            }
            return digest
        }
    }

    /// The media type from Content-Type, else from the JSON's `mediaType` field.
    static func mediaType(of response: HTTPResponse) -> String {
        if let type = response.header("content-type")?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces),
           MediaType.isIndex(type) || MediaType.isManifest(type) {
            return type
        }
        struct Probe: Decodable { var mediaType: String?; var manifests: [Probe]? }
        if let probe = try? JSONDecoder().decode(Probe.self, from: response.body) {
            if let type = probe.mediaType { return type }
            if probe.manifests != nil { return MediaType.ociIndex }
        }
        return MediaType.ociManifest
    }
}
