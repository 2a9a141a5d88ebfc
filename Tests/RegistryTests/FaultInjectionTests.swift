import Foundation
import OCI
import Testing
@testable import Registry

/// The client through a proxy that resets, fails, truncates and corrupts: transfers recover or
/// fail with a clear error, and a blob that does not match its digest never reaches the caller.
@Suite struct FaultInjectionTests {
    /// Registry + proxy + one pushed blob, torn down afterwards.
    private func withProxiedBlob(size: Int = 2 << 20,
                                 _ body: (FaultProxy, RegistryClient, TestBlob, TempDir) async throws -> Void) async throws {
        try await RegistryServer.with { registry in
            try await FaultProxy.with(upstreamPort: registry.port) { proxy in
                let dir = try TempDir("faults")
                defer { dir.remove() }
                let blob = try TestBlob(size: size, in: dir)
                let direct = try makeClient(registry.host)
                try await direct.pushBlob(repository: "f/x", digest: blob.digest, size: Int64(size), from: blob.url)
                try await body(proxy, try makeClient(proxy.host), blob, dir)
            }
        }
    }

    @Test func downloadRetriesResets500And429() async throws {
        try await withProxiedBlob { proxy, client, blob, dir in
            try await proxy.setRules([
                .init(method: "GET", path: "/blobs/", action: .reset),
                .init(method: "GET", path: "/blobs/", action: .status, status: 500),
                .init(method: "GET", path: "/blobs/", action: .status, status: 429, retryAfter: "0"),
            ])
            let out = dir.file("out")
            try await client.fetchBlob(repository: "f/x", digest: blob.digest, size: Int64(blob.data.count), to: out)
            #expect(try Data(contentsOf: out) == blob.data)
            let gets = try await proxy.requests().filter { $0.method == "GET" && $0.path.contains("/blobs/") }
            #expect(gets.map(\.fault) == ["reset", "status", "status", nil])
        }
    }

    @Test func truncatedDownloadResumesWithRange() async throws {
        try await withProxiedBlob { proxy, client, blob, dir in
            try await proxy.setRules([.init(method: "GET", path: "/blobs/", action: .truncate)])
            let out = dir.file("out")
            try await client.fetchBlob(repository: "f/x", digest: blob.digest, size: Int64(blob.data.count), to: out)
            #expect(try Data(contentsOf: out) == blob.data)
            let gets = try await proxy.requests().filter { $0.method == "GET" && $0.path.contains("/blobs/") }
            #expect(gets.count == 2)
            let range = try #require(gets.last?.range)
            #expect(range.hasPrefix("bytes=") && range != "bytes=0-", "second request should resume: \(range)")
        }
    }

    @Test func corruptBytesAreRetriedOnceThenRejected() async throws {
        try await withProxiedBlob { proxy, client, blob, dir in
            // A single corrupted response: the fresh retry gets good bytes.
            try await proxy.setRules([.init(method: "GET", path: "/blobs/", action: .corrupt)])
            let out = dir.file("out")
            try await client.fetchBlob(repository: "f/x", digest: blob.digest, size: Int64(blob.data.count), to: out)
            #expect(try Data(contentsOf: out) == blob.data)

            // The registry keeps serving wrong bytes: a digest error, and no file is left.
            try await proxy.setRules([.init(method: "GET", path: "/blobs/", action: .corrupt, times: 100)])
            let bad = dir.file("bad")
            do {
                try await client.fetchBlob(repository: "f/x", digest: blob.digest, size: Int64(blob.data.count), to: bad)
                Issue.record("a corrupt blob was accepted")
            } catch let error as RegistryError {
                guard case .digestMismatch(let expected, _, _) = error else { Issue.record("wrong error: \(error)"); return }
                #expect(expected == blob.digest)
                #expect(error.description.contains("does not match its digest"))
            }
            #expect(!FileManager.default.fileExists(atPath: bad.path))
        }
    }

    @Test func persistentServerErrorFailsClearly() async throws {
        try await withProxiedBlob(size: 1000) { proxy, _, blob, dir in
            try await proxy.setRules([.init(method: "GET", path: "/blobs/", action: .status, status: 503, times: 100)])
            let client = try makeClient(proxy.host, retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.01))
            let out = dir.file("out")
            do {
                try await client.fetchBlob(repository: "f/x", digest: blob.digest, to: out)
                Issue.record("expected a failure")
            } catch let error as RegistryError {
                guard case .httpStatus(503, _, _, let body, _) = error else { Issue.record("wrong error: \(error)"); return }
                #expect(body.contains("injected fault"))
            }
            #expect(!FileManager.default.fileExists(atPath: out.path))
            let gets = try await proxy.requests().filter { $0.method == "GET" }
            #expect(gets.count == 3)
        }
    }

    @Test func uploadRecoversFromFailedPostAndResetPut() async throws {
        try await RegistryServer.with { registry in
            try await FaultProxy.with(upstreamPort: registry.port) { proxy in
                let dir = try TempDir("upfaults")
                defer { dir.remove() }
                let blob = try TestBlob(size: 1 << 20, in: dir)
                try await proxy.setRules([
                    .init(method: "POST", path: "/blobs/uploads/", action: .status, status: 500),
                    .init(method: "PUT", path: "/blobs/uploads/", action: .reset),
                    .init(method: "PATCH", path: "/blobs/uploads/", action: .status, status: 502),
                ])
                let client = try makeClient(proxy.host)
                #expect(try await client.pushBlob(repository: "f/up", digest: blob.digest, size: Int64(blob.data.count),
                                                  from: blob.url) == .uploaded)
                let chunked = try makeClient(proxy.host, chunkSize: 300_000)
                let second = try TestBlob(size: 1 << 20, in: dir)
                #expect(try await chunked.pushBlob(repository: "f/up", digest: second.digest, size: Int64(second.data.count),
                                                   from: second.url) == .uploaded)
                let direct = try makeClient(registry.host)
                for b in [blob, second] {
                    let out = dir.file("check")
                    try await direct.fetchBlob(repository: "f/up", digest: b.digest, to: out)
                    #expect(try Data(contentsOf: out) == b.data)
                }
            }
        }
    }

    @Test func corruptManifestIsRejected() async throws {
        try await RegistryServer.with { registry in
            try await FaultProxy.with(upstreamPort: registry.port) { proxy in
                let direct = try makeClient(registry.host)
                let config = Data(#"{"os":"linux"}"#.utf8)
                try await direct.pushBlob(repository: "f/m", data: config)
                let manifest = makeManifest(config: Digest.sha256(config), configSize: config.count, layers: [])
                let digest = try await direct.putManifest(repository: "f/m", reference: "t", data: manifest,
                                                          mediaType: MediaType.ociManifest)
                try await proxy.setRules([.init(method: "GET", path: "/manifests/", action: .corrupt, times: 100)])
                let client = try makeClient(proxy.host)
                for reference in ["t", digest.description] {
                    do {
                        _ = try await client.fetchManifest(repository: "f/m", reference: reference)
                        Issue.record("a corrupt manifest was accepted for \(reference)")
                    } catch let error as RegistryError {
                        guard case .digestMismatch = error else { Issue.record("wrong error: \(error)"); return }
                    }
                }
            }
        }
    }
}
