import Foundation

/// Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 with a free port and a temporary
/// storage directory. Open, with htpasswd Basic auth, or with Bearer tokens from `TokenServer`.
final class RegistryServer: @unchecked Sendable {
    enum Auth {
        case none
        /// Basic auth against an htpasswd file made with `htpasswd -Bbn`.
        case htpasswd(user: String, password: String)
        /// Bearer tokens issued by a token server (realm, service, issuer, root certificate).
        case token(realm: String, service: String, issuer: String, certificatePath: String)
    }

    let port: Int
    let address: String
    let dir: TempDir
    private let server: ServerProcess

    var host: String { "\(address):\(port)" }

    /// - Parameters:
    ///   - address: a loopback address; 127.0.0.1 and localhost are plain-HTTP registries to the
    ///     client, any other 127/8 address (all routed to lo on Linux) is HTTPS by default.
    ///   - tls: serve HTTPS with this certificate chain and key (PEM files).
    init(auth: Auth = .none, address: String = "127.0.0.1", tls: (certificate: String, key: String)? = nil) async throws {
        self.address = address
        dir = try TempDir("registry")
        do {
            port = try ServerProcess.freePort()
            var authBlock = ""
            switch auth {
            case .none:
                break
            case .htpasswd(let user, let password):
                let (status, line) = try await runCommand("/usr/bin/htpasswd", ["-Bbn", user, password])
                guard status == 0 else { throw TestSupportError("htpasswd failed: \(line)") }
                let file = dir.file("htpasswd")
                try line.trimmingCharacters(in: .whitespacesAndNewlines).appending("\n")
                    .write(to: file, atomically: true, encoding: .utf8)
                authBlock = """
                auth:
                  htpasswd:
                    realm: slipway-test
                    path: \(file.path)

                """
            case .token(let realm, let service, let issuer, let certificatePath):
                authBlock = """
                auth:
                  token:
                    realm: \(realm)
                    service: \(service)
                    issuer: \(issuer)
                    rootcertbundle: \(certificatePath)

                """
            }
            let tlsBlock = tls.map { "  tls:\n    certificate: \($0.certificate)\n    key: \($0.key)\n" } ?? ""
            let config = """
            version: 0.1
            log:
              level: info
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: \(dir.path)/data
              delete:
                enabled: true
              cache:
                blobdescriptor: inmemory
            \(authBlock)http:
              addr: \(address):\(port)
            \(tlsBlock)  headers:
                X-Content-Type-Options: [nosniff]
            health:
              storagedriver:
                enabled: false

            """
            let configFile = dir.file("config.yml")
            try config.write(to: configFile, atomically: true, encoding: .utf8)
            server = try ServerProcess(executable: "/usr/bin/docker-registry", arguments: ["serve", configFile.path],
                                       logPath: dir.file("registry.log").path)
            do { try await server.waitForPort(port, address: address) } catch { await server.stop(); throw error }
        } catch {
            dir.remove()
            throw error
        }
    }

    func stop() async {
        await server.stop()
        dir.remove()
    }

    var log: String { server.log }

    /// Starts a registry, runs `body`, and stops the registry whether or not `body` throws.
    static func with<T>(auth: Auth = .none, address: String = "127.0.0.1", tls: (certificate: String, key: String)? = nil,
                        _ body: (RegistryServer) async throws -> T) async throws -> T {
        let server = try await RegistryServer(auth: auth, address: address, tls: tls)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }
}
