import Foundation
import Testing
import TestSupport

/// `slipway push/pull` and `ADD https://` against a docker-registry serving HTTPS with a
/// certificate from a private CA on 127.0.0.2 (a loopback address the client treats as a remote,
/// HTTPS registry): trusted through SSL_CERT_FILE, a clear TLS error without it.
@Suite("Registry CLI: HTTPS with a private CA", .serialized)
struct HTTPSCLITests {
    @Test("SSL_CERT_FILE makes push, pull and ADD https:// trust a private CA; without it a one-line TLS error",
          .requires(BuildHarness.requirements + TestRegistry.prerequisites + [.openssl]))
    func privateCAThroughSSLCertFile() async throws {
        let s = try BuildSandbox()
        let dir = s.root + "/tls"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try await makeCertificates(in: dir, address: "127.0.0.2")
        let registry = try await TestRegistry(address: "127.0.0.2", tls: .init(
            certificate: dir + "/server.pem", key: dir + "/server.key", ca: dir + "/ca.pem"))
        let host = registry.host
        try await s.importFixture("busybox", as: "\(host)/tls/bb:1")
        let trusted = ["SSL_CERT_FILE": dir + "/ca.pem"]
        func slipway(_ args: [String], env: [String: String] = [:]) async throws -> BuildHarness.Result {
            try await BuildHarness.run([BuildHarness.binary] + args + ["--root", s.store], cwd: s.context, env: env)
        }

        let untrusted = try await slipway(["push", "\(host)/tls/bb:1"], env: ["SSL_CERT_FILE": ""])
        #expect(untrusted.status != 0)
        #expect(untrusted.stderr.hasPrefix("error: TLS error for https://\(host)/v2/"), "\(untrusted.stderr)")
        #expect(untrusted.stderr.contains("SSL_CERT_FILE") && !untrusted.stderr.contains("Fatal error"), "\(untrusted.stderr)")
        #expect(untrusted.seconds < 20, "no hang")

        let push = try await slipway(["push", "\(host)/tls/bb:1"], env: trusted)
        #expect(push.status == 0, "\(push.combined)")
        try #require(try await slipway(["rmi", "\(host)/tls/bb:1"]).status == 0)
        let pull = try await slipway(["pull", "\(host)/tls/bb:1"], env: trusted)
        #expect(pull.status == 0, "\(pull.combined)")
        #expect(pull.stdout.contains("Status: Downloaded newer image"), "\(pull.stdout)")

        // ADD from an https URL goes through the same transport and trust.
        try s.write("Dockerfile", "FROM \(host)/tls/bb:1\nADD https://\(host)/v2/ /v2.json\n")
        let out = s.root + "/out"
        let build = try await BuildHarness.run([BuildHarness.binary, "build", "--progress", "plain", "--root", s.store,
                                          "--output", "type=local,dest=\(out)", s.context], env: trusted)
        #expect(build.status == 0, "\(build.combined)")
        #expect((try? String(contentsOfFile: out + "/v2.json", encoding: .utf8)) == "{}", "\(build.combined)")
        try s.write("Dockerfile", "FROM \(host)/tls/bb:1\nADD https://\(host)/v2/?again /again.json\n")
        let failed = try await BuildHarness.run([BuildHarness.binary, "build", "--progress", "plain", "--root", s.store, s.context],
                                          env: ["SSL_CERT_FILE": ""])
        #expect(failed.status != 0 && failed.stderr.contains("TLS handshake failed"), "\(failed.combined)")
    }

    @Test("the binary links neither libcurl nor FoundationNetworking; a command without network loads no libcurl",
          .requires(.slipwayBinary))
    func libcurlIsLoadedOnlyForNetworkUse() async throws {
        let ldd = try await BuildHarness.run(["/usr/bin/ldd", BuildHarness.binary])
        #expect(ldd.status == 0 && ldd.stdout.contains("libc.so"), "\(ldd.combined)")
        #expect(!ldd.stdout.contains("libcurl") && !ldd.stdout.contains("FoundationNetworking"), "\(ldd.stdout)")
        // LD_DEBUG=files reports every library the dynamic loader opens, dlopen included.
        let root = NSTemporaryDirectory() + "slipway-nocurl-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let images = try await BuildHarness.run([BuildHarness.binary, "images", "--root", root], env: ["LD_DEBUG": "files"])
        #expect(images.status == 0, "\(images.combined)")
        #expect(images.stderr.contains("libc.so") && !images.stderr.contains("libcurl"), "\(images.stderr.suffix(2000))")
    }

    /// A CA and a server certificate it signed for `address` (SAN IP:address).
    private func makeCertificates(in dir: String, address: String) async throws {
        try "subjectAltName=IP:\(address)\nextendedKeyUsage=serverAuth\n"
            .write(toFile: dir + "/server.ext", atomically: true, encoding: .utf8)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for args in [
            ["req", "-x509"] + ec + ["-keyout", dir + "/ca.key", "-out", dir + "/ca.pem", "-days", "2",
                                     "-subj", "/CN=slipway test CA", "-addext", "basicConstraints=critical,CA:TRUE"],
            ["req"] + ec + ["-keyout", dir + "/server.key", "-out", dir + "/server.csr", "-subj", "/CN=\(address)"],
            ["x509", "-req", "-in", dir + "/server.csr", "-CA", dir + "/ca.pem", "-CAkey", dir + "/ca.key", "-CAcreateserial",
             "-out", dir + "/server.pem", "-days", "2", "-extfile", dir + "/server.ext"],
        ] {
            let r = try await BuildHarness.run(["/usr/bin/openssl"] + args)
            try #require(r.status == 0, "openssl \(args[0]): \(r.combined)")
        }
    }
}
