import Foundation
import OCI
import Testing
@testable import Registry

/// The wire client against a real `docker-registry` on 127.0.0.1.
@Suite struct RegistryClientTests {
    @Test func blobAndManifestRoundTripOnOpenRegistry() async throws {
        try await RegistryServer.with { registry in
            let dir = try TempDir("rt")
            defer { dir.remove() }
            let client = try makeClient(registry.host)
            try await client.ping()

            let layer = try TestBlob(size: 3 << 20 + 17, in: dir)
            #expect(try await client.blobExists(repository: "test/app", digest: layer.digest) == nil)
            #expect(try await client.pushBlob(repository: "test/app", digest: layer.digest, size: Int64(layer.data.count),
                                              from: layer.url) == .uploaded)
            #expect(try await client.blobExists(repository: "test/app", digest: layer.digest) == Int64(layer.data.count))
            #expect(try await client.pushBlob(repository: "test/app", digest: layer.digest, size: Int64(layer.data.count),
                                              from: layer.url) == .alreadyPresent)
            let config = Data(#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.utf8)
            #expect(try await client.pushBlob(repository: "test/app", data: config) == .uploaded)

            let manifest = makeManifest(config: Digest.sha256(config), configSize: config.count,
                                        layers: [(layer.digest, layer.data.count)])
            let digest = try await client.putManifest(repository: "test/app", reference: "v1", data: manifest,
                                                      mediaType: MediaType.ociManifest)
            #expect(digest == Digest.sha256(manifest))

            let byTag = try await client.fetchManifest(repository: "test/app", reference: "v1")
            #expect(byTag.data == manifest)
            #expect(byTag.digest == digest)
            #expect(byTag.mediaType == MediaType.ociManifest)
            #expect(try await client.fetchManifest(repository: "test/app", reference: digest.description).data == manifest)
            #expect(try await client.manifestDigest(repository: "test/app", reference: "v1") == digest)
            #expect(try await client.manifestDigest(repository: "test/app", reference: "nope") == nil)

            let out = dir.file("out")
            let seen = Counter()
            let n = try await client.fetchBlob(repository: "test/app", digest: layer.digest, size: Int64(layer.data.count),
                                               to: out, progress: { seen.set($0) })
            #expect(n == Int64(layer.data.count))
            #expect(try Data(contentsOf: out) == layer.data)
            #expect(seen.value == Int64(layer.data.count))

            await #expect(throws: RegistryError.self) {
                try await client.fetchManifest(repository: "test/app", reference: "missing")
            }
            let missing = Digest.sha256("nothing")
            do {
                try await client.fetchBlob(repository: "test/app", digest: missing, to: dir.file("m"))
                Issue.record("fetching a missing blob succeeded")
            } catch let error as RegistryError {
                guard case .notFound = error else { Issue.record("wrong error: \(error)"); return }
            }
            #expect(!FileManager.default.fileExists(atPath: dir.file("m").path))
        }
    }

    @Test func chunkedUploadAndCrossRepositoryMount() async throws {
        try await RegistryServer.with { registry in
            let dir = try TempDir("chunk")
            defer { dir.remove() }
            let chunked = try makeClient(registry.host, chunkSize: 256 << 10)
            let layer = try TestBlob(size: (1 << 20) + 12345, in: dir)
            #expect(try await chunked.pushBlob(repository: "a/src", digest: layer.digest, size: Int64(layer.data.count),
                                               from: layer.url) == .uploaded)
            let out = dir.file("out")
            try await chunked.fetchBlob(repository: "a/src", digest: layer.digest, to: out)
            #expect(try Data(contentsOf: out) == layer.data)

            #expect(try await chunked.pushBlob(repository: "b/dst", digest: layer.digest, size: Int64(layer.data.count),
                                               from: layer.url, mountFrom: "a/src") == .mounted)
            #expect(try await chunked.blobExists(repository: "b/dst", digest: layer.digest) == Int64(layer.data.count))
        }
    }

    @Test func imageIndexIsStoredAndResolvedPerPlatform() async throws {
        try await RegistryServer.with { registry in
            let client = try makeClient(registry.host)
            let config = Data(#"{"architecture":"arm64","os":"linux"}"#.utf8)
            try await client.pushBlob(repository: "multi", data: config)
            let manifest = makeManifest(config: Digest.sha256(config), configSize: config.count, layers: [])
            let mdigest = try await client.putManifest(repository: "multi", reference: Digest.sha256(manifest).description,
                                                       data: manifest, mediaType: MediaType.ociManifest)
            let index = Data("""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(mdigest)","size":\(manifest.count),"platform":{"os":"linux","architecture":"arm64"}}]}
            """.utf8)
            try await client.putManifest(repository: "multi", reference: "latest", data: index, mediaType: MediaType.ociIndex)
            let fetched = try await client.fetchManifest(repository: "multi", reference: "latest")
            #expect(fetched.isIndex)
            let decoded = try ImageIndex.decode(Array(fetched.data))
            #expect(decoded.bestManifest(for: Platform(architecture: "arm64"))?.digest == mdigest)
            #expect(decoded.bestManifest(for: Platform(architecture: "amd64")) == nil)
        }
    }

    @Test func basicAuthWithAndWithoutCredentials() async throws {
        try await RegistryServer.with(auth: .htpasswd(user: "alice", password: "s3cret")) { registry in
            let anonymous = try makeClient(registry.host, retry: .none)
            do {
                try await anonymous.ping()
                Issue.record("anonymous ping of an htpasswd registry succeeded")
            } catch let error as RegistryError {
                guard case .unauthorized = error else { Issue.record("wrong error: \(error)"); return }
                #expect(error.description.contains("slipway login"))
            }
            let wrong = try makeClient(registry.host, credentials: RegistryCredentials(username: "alice", password: "nope"), retry: .none)
            await #expect(throws: RegistryError.self) { try await wrong.ping() }

            let alice = try makeClient(registry.host, credentials: RegistryCredentials(username: "alice", password: "s3cret"))
            try await alice.ping()
            let blob = Data("hello registry".utf8)
            #expect(try await alice.pushBlob(repository: "private/x", data: blob) == .uploaded)
            #expect(try await alice.blobExists(repository: "private/x", digest: Digest.sha256(blob)) == Int64(blob.count))
        }
    }

    @Test func credentialsComeFromTheDockerConfigFile() async throws {
        try await RegistryServer.with(auth: .htpasswd(user: "bob", password: "pw")) { registry in
            let dir = try TempDir("cfg")
            defer { dir.remove() }
            let file = DockerConfigFile(path: dir.file("config.json").path)
            try file.store(RegistryCredentials(username: "bob", password: "pw"), for: RegistryHost(registry.host))
            let client = try RegistryClient(registry: registry.host, configFile: file)
            try await client.ping()
        }
    }
}

/// A thread-safe box for values set from progress callbacks.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var v: Int64 = 0
    func set(_ x: Int64) { lock.withLock { v = x } }
    var value: Int64 { lock.withLock { v } }
}
