import Foundation
import HTTP
import OCI
import Testing
@testable import Registry

/// HTTPS to a registry whose certificate comes from a private CA (issue #5: "HTTPS by default
/// with the system CA bundle, SSL_CERT_FILE honoured"). The registry listens on 127.0.0.2, which
/// the client treats as a remote (HTTPS) registry, unlike 127.0.0.1.
@Suite struct HTTPSTests {
    private func client(_ host: String, trust: TLSTrust) throws -> RegistryClient {
        RegistryClient(host: try RegistryHost(host),
                       options: RegistryClientOptions(retry: RetryPolicy(baseDelay: 0.05), requestTimeout: 20, trust: trust))
    }

    @Test func pushAndPullOverHTTPSTrustingThePrivateCA() async throws {
        try await withTLSRegistry { registry, ca in
            #expect(!(try RegistryHost(registry.host).insecure))
            let dir = try TempDir("https")
            defer { dir.remove() }
            for trust in [TLSTrust(caFile: ca.caFile), TLSTrust(caDirectory: ca.caDirectory)] {
                let client = try client(registry.host, trust: trust)
                try await client.ping()
                let layer = try TestBlob(size: (1 << 20) + 3, in: dir)
                #expect(try await client.pushBlob(repository: "tls/app", digest: layer.digest, size: Int64(layer.data.count),
                                                  from: layer.url) == .uploaded)
                let config = Data(#"{"os":"linux"}"#.utf8)
                try await client.pushBlob(repository: "tls/app", data: config)
                let manifest = makeManifest(config: Digest.sha256(config), configSize: config.count,
                                            layers: [(layer.digest, layer.data.count)])
                let digest = try await client.putManifest(repository: "tls/app", reference: "v1", data: manifest,
                                                          mediaType: MediaType.ociManifest)
                #expect(try await client.fetchManifest(repository: "tls/app", reference: "v1").digest == digest)
                let out = dir.file("out-\(UUID().uuidString)")
                try await client.fetchBlob(repository: "tls/app", digest: layer.digest, size: Int64(layer.data.count), to: out)
                #expect(try Data(contentsOf: out) == layer.data)
            }
        }
    }

    /// No hang: bounded by the time limit (a wall-clock check here measured the whole machine,
    /// which the suite shares with builds); no retry: `isTransient` is false.
    @Test(.timeLimit(.minutes(2)))
    func untrustedCertificateFailsAtOnceWithAReadableTLSError() async throws {
        try await withTLSRegistry { registry, _ in
            // The system bundle does not know the private CA.
            let client = try client(registry.host, trust: TLSTrust())
            do {
                try await client.ping()
                Issue.record("an untrusted certificate was accepted")
            } catch let error as RegistryError {
                guard case .tls = error else { Issue.record("wrong error: \(error)"); return }
                let text = error.description
                #expect(text.contains("https://127.0.0.2:\(registry.port)/v2/"), "\(text)")
                #expect(text.contains("TLS handshake failed") && text.contains("SSL_CERT_FILE"), "\(text)")
                #expect(text.contains("certificate"), "\(text)")
                // Not retried: the same certificate would be refused again.
                #expect(!error.isTransient)
            }
        }
    }

    @Test func aCAFileThatCannotBeReadIsNamed() async throws {
        try await withTLSRegistry { registry, _ in
            let client = try client(registry.host, trust: TLSTrust(caFile: "/nonexistent/ca.pem"))
            do {
                try await client.ping()
                Issue.record("a missing CA file was accepted")
            } catch let error as RegistryError {
                guard case .tls = error else { Issue.record("wrong error: \(error)"); return }
                #expect(error.description.contains("/nonexistent/ca.pem"), "\(error)")
            }
        }
    }

    @Test func httpsToAPlainHTTPRegistrySuggestsInsecureRegistry() async throws {
        try await RegistryServer.with(address: "127.0.0.2") { registry in
            let client = try client(registry.host, trust: TLSTrust())
            do {
                try await client.ping()
                Issue.record("HTTPS to a plain-HTTP server succeeded")
            } catch let error as RegistryError {
                guard case .tls = error else { Issue.record("wrong error: \(error)"); return }
                #expect(error.description.contains("--insecure-registry"), "\(error)")
            }
            let insecure = RegistryClient(host: try RegistryHost(registry.host, insecureRegistries: [registry.host]))
            try await insecure.ping()
        }
    }
}
