import Foundation

/// A private certificate authority made with `openssl`, and a server certificate it signed for
/// an IP address (SAN `IP:<address>`): what a company registry with an internal CA looks like.
struct TestCA {
    let dir: TempDir
    /// The CA certificate (PEM): what SSL_CERT_FILE points at.
    var caFile: String { dir.file("ca.pem").path }
    /// A `c_rehash`-style directory holding only the CA: what SSL_CERT_DIR points at.
    var caDirectory: String { dir.file("certs").path }
    var serverCertificate: String { dir.file("server.pem").path }
    var serverKey: String { dir.file("server.key").path }

    init(serverAddress: String) async throws {
        dir = try TempDir("ca")
        do {
            let d = dir.path
            try "subjectAltName=IP:\(serverAddress)\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                .write(to: dir.file("server.ext"), atomically: true, encoding: .utf8)
            let steps: [[String]] = [
                ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", "\(d)/ca.key", "-out", "\(d)/ca.pem", "-days", "2", "-subj", "/CN=slipway test CA",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", "\(d)/server.key", "-out", "\(d)/server.csr", "-subj", "/CN=\(serverAddress)"],
                ["x509", "-req", "-in", "\(d)/server.csr", "-CA", "\(d)/ca.pem", "-CAkey", "\(d)/ca.key",
                 "-CAcreateserial", "-out", "\(d)/server.pem", "-days", "2", "-extfile", "\(d)/server.ext"],
            ]
            for args in steps {
                let (status, output) = try await runCommand("/usr/bin/openssl", args)
                guard status == 0 else { throw TestSupportError("openssl \(args[0]) failed: \(output)") }
            }
            try FileManager.default.createDirectory(atPath: caDirectory, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: caFile, toPath: caDirectory + "/ca.pem")
            let (status, output) = try await runCommand("/usr/bin/openssl", ["rehash", caDirectory])
            guard status == 0 else { throw TestSupportError("openssl rehash failed: \(output)") }
        } catch {
            dir.remove()
            throw error
        }
    }

    func remove() { dir.remove() }
}

/// A registry serving HTTPS on 127.0.0.2 with a certificate from a fresh private CA; both
/// removed afterwards.
func withTLSRegistry<T>(auth: RegistryServer.Auth = .none,
                        _ body: (RegistryServer, TestCA) async throws -> T) async throws -> T {
    let ca = try await TestCA(serverAddress: "127.0.0.2")
    defer { ca.remove() }
    return try await RegistryServer.with(auth: auth, address: "127.0.0.2",
                                         tls: (ca.serverCertificate, ca.serverKey)) { registry in
        try await body(registry, ca)
    }
}
