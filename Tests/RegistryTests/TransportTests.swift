import Foundation
import HTTP
import OCI
import Testing
@testable import Registry

/// The libcurl transport's guarantees, through the fault proxy: a connection that goes silent
/// fails in seconds (and the retry resumes), cancellation stops a transfer, and credentials do
/// not follow a redirect to another host.
@Suite struct TransportTests {
    private func withProxiedBlob(auth: RegistryServer.Auth = .none, credentials: RegistryCredentials? = nil,
                                 _ body: (FaultProxy, TestBlob, TempDir) async throws -> Void) async throws {
        try await RegistryServer.with(auth: auth) { registry in
            try await FaultProxy.with(upstreamPort: registry.port) { proxy in
                let dir = try TempDir("transport")
                defer { dir.remove() }
                let blob = try TestBlob(size: 2 << 20, in: dir)
                let direct = try makeClient(registry.host, credentials: credentials)
                try await direct.pushBlob(repository: "t/x", digest: blob.digest, size: Int64(blob.data.count), from: blob.url)
                try await body(proxy, blob, dir)
            }
        }
    }

    @Test func stalledDownloadFailsInSecondsThenResumesWithRange() async throws {
        try await withProxiedBlob { proxy, blob, dir in
            // Without retries: the stall itself is the error, after ~2 s, not the 120 s silence.
            try await proxy.setRules([.init(method: "GET", path: "/blobs/", action: .stall, seconds: 120)])
            let once = try makeClient(proxy.host, retry: .none, timeout: 2)
            let start = Date()
            do {
                try await once.fetchBlob(repository: "t/x", digest: blob.digest, size: Int64(blob.data.count), to: dir.file("a"))
                Issue.record("a stalled download succeeded")
            } catch let error as RegistryError {
                guard case .transport(let detail, _) = error else { Issue.record("wrong error: \(error)"); return }
                #expect(detail.contains("timed out") && detail.contains("no data moved for 2 s"), "\(detail)")
            }
            // Far under the 120 s stall: a client that waited the stall out takes 120 s or more,
            // while one that timed out takes seconds (tens under the full parallel suite on a
            // small machine, where the test's own continuations resume late).
            #expect(Date().timeIntervalSince(start) < 90, "under the 120 s stall")

            // With retries: the second request asks for the rest.
            try await proxy.setRules([.init(method: "GET", path: "/blobs/", action: .stall, seconds: 120)])
            let client = try makeClient(proxy.host, timeout: 2)
            let out = dir.file("b")
            let again = Date()
            try await client.fetchBlob(repository: "t/x", digest: blob.digest, size: Int64(blob.data.count), to: out)
            #expect(Date().timeIntervalSince(again) < 90, "under the 120 s stall")
            #expect(try Data(contentsOf: out) == blob.data)
            let gets = try await proxy.requests().filter { $0.method == "GET" && $0.path.contains("/blobs/") }
            #expect(gets.suffix(2).map(\.fault) == ["stall", nil])
            let range = try #require(gets.last?.range)
            #expect(range.hasPrefix("bytes=") && range != "bytes=0-", "the retry should resume: \(range)")
        }
    }

    @Test func stalledUploadFailsInSecondsAndIsRetried() async throws {
        try await RegistryServer.with { registry in
            try await FaultProxy.with(upstreamPort: registry.port) { proxy in
                let dir = try TempDir("upstall")
                defer { dir.remove() }
                let blob = try TestBlob(size: 4 << 20, in: dir)
                try await proxy.setRules([.init(method: "PUT", path: "/blobs/uploads/", action: .stall, seconds: 120)])
                let client = try makeClient(proxy.host, timeout: 2)
                let start = Date()
                #expect(try await client.pushBlob(repository: "t/up", digest: blob.digest, size: Int64(blob.data.count),
                                                  from: blob.url) == .uploaded)
                // Beating the 120 s stall is the point: waiting it out takes 120 s or more, timing
                // out takes seconds (a loaded CI machine has taken 35).
                #expect(Date().timeIntervalSince(start) < 90, "under the 120 s stall")
                let puts = try await proxy.requests().filter { $0.method == "PUT" }
                #expect(puts.map(\.fault) == ["stall", nil])
                #expect(puts.allSatisfy { $0.expect == nil }, "no Expect: 100-continue")
                let out = dir.file("check")
                try await makeClient(registry.host).fetchBlob(repository: "t/up", digest: blob.digest, to: out)
                #expect(try Data(contentsOf: out) == blob.data)
            }
        }
    }

    @Test func cancellingATaskStopsItsTransfer() async throws {
        try await withProxiedBlob { proxy, blob, dir in
            try await proxy.setRules([.init(method: "GET", path: "/blobs/", action: .stall, seconds: 120)])
            let client = try makeClient(proxy.host, timeout: 100)
            let out = dir.file("c")
            let task = Task {
                try await client.fetchBlob(repository: "t/x", digest: blob.digest, size: Int64(blob.data.count), to: out)
            }
            try await Task.sleep(nanoseconds: 700_000_000)
            let start = Date()
            task.cancel()
            let result = await task.result
            #expect(Date().timeIntervalSince(start) < 60, "well under the 100 s stall timeout")
            guard case .failure(let error) = result else { Issue.record("a cancelled download succeeded"); return }
            #expect(error is CancellationError, "\(error)")
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
    }

    @Test func authorizationStaysWithTheOriginalHostOnRedirect() async throws {
        let credentials = RegistryCredentials(username: "u", password: "p")
        try await withProxiedBlob(auth: .htpasswd(user: "u", password: "p"), credentials: credentials) { proxy, blob, dir in
            let client = try makeClient(proxy.host, credentials: credentials)
            try await client.ping()  // learns the Basic challenge
            // Same host and port: the credentials go along. Another host name (localhost is
            // the same proxy, but not the same origin to the client): they do not.
            try await proxy.setRules([
                .init(method: "GET", path: "/blobs/", action: .redirect, location: "http://\(proxy.host)"),
                .init(method: "GET", path: "/blobs/", action: .redirect, location: "http://localhost:\(proxy.port)"),
            ])
            let out = dir.file("r")
            try await client.fetchBlob(repository: "t/x", digest: blob.digest, size: Int64(blob.data.count), to: out)
            #expect(try Data(contentsOf: out) == blob.data)
            let gets = try await proxy.requests().filter { $0.method == "GET" && $0.path.contains("/blobs/") }
            let summary = gets.map { "\($0.host ?? "?") auth=\($0.auth ?? false) \($0.fault ?? "-")" }
            // redirect (same host) → redirect (to localhost) → localhost without credentials →
            // 401 there, so the client asks the original host again, with credentials.
            #expect(gets.count >= 3, "\(summary)")
            #expect(gets[0].auth == true && gets[0].fault == "redirect", "\(summary)")
            #expect(gets[1].host == proxy.host && gets[1].auth == true && gets[1].fault == "redirect", "\(summary)")
            #expect(gets[2].host == "localhost:\(proxy.port)" && gets[2].auth == false, "\(summary)")
            #expect(!gets.contains { $0.host?.hasPrefix("localhost") == true && $0.auth == true }, "\(summary)")
        }
    }

    @Test func aHeaderValueWithALineBreakIsRefusedBeforeSending() async throws {
        let transport = HTTPTransport(settings: .init(trust: TLSTrust()))
        let request = HTTPRequest(url: URL(string: "http://127.0.0.1:9/v2/")!,
                                  headers: ["Authorization": "Bearer abc\r\nX-Injected: 1"])
        do {
            _ = try await transport.send(request)
            Issue.record("a header with CR/LF was sent")
        } catch let error as HTTPError {
            guard case .protocolViolation(let detail) = error else { Issue.record("wrong error: \(error)"); return }
            #expect(detail.contains("Authorization") && detail.contains("line break"), "\(detail)")
        }
    }
}
