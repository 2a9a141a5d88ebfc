import Foundation
import TestSupport

/// A throwaway Debian docker-registry for one test, on a free port: plain HTTP on 127.0.0.1 by
/// default, optionally with htpasswd Basic auth or TLS (on another loopback address, since
/// Slipway speaks plain HTTP to 127.0.0.1). Ready when `init` returns; killed and its storage
/// removed when released.
final class TestRegistry {
    struct TLS {
        var certificate: String
        var key: String
        /// What `curl` trusts while waiting for the server to come up.
        var ca: String
    }

    static let binary = "/usr/bin/docker-registry"
    /// What a test that starts one needs: the registry, and curl for the readiness probe.
    static let prerequisites: [Prerequisite] = [.dockerRegistry, .curl]

    let port: Int
    /// `address:port`, the registry part of image references.
    let host: String
    private let dir: String
    private let process: Process

    /// Starts a registry on a random port. A port another process already holds makes the
    /// registry exit at once: then it is tried again on another port (up to 4 ports); a slow
    /// start on a loaded machine gets 30 s.
    init(address: String = "127.0.0.1", htpasswd: String? = nil, tls: TLS? = nil) async throws {
        dir = "/var/tmp/slipway-it-registry-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: dir + "/data", withIntermediateDirectories: true)
        var lastHost = ""
        for _ in 0..<4 {
            let port = 31_000 + Int.random(in: 0..<4000)
            let host = "\(address):\(port)"
            lastHost = host
            var http = "addr: \"\(host)\""
            if let tls { http += ", tls: {certificate: \(tls.certificate), key: \(tls.key)}" }
            let auth = htpasswd.map { "auth: {htpasswd: {realm: slipway-it, path: \($0)}}\n" } ?? ""
            try """
                version: 0.1
                log: {level: error, accesslog: {disabled: true}}
                storage: {filesystem: {rootdirectory: \(dir)/data}}
                \(auth)http: {\(http)}

                """.write(toFile: dir + "/config.yml", atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.binary)
            process.arguments = ["serve", dir + "/config.yml"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Any HTTP answer (a 401 included) means it is serving; an exit means the port was taken.
            let probe = ["/usr/bin/curl", "-s", "-o", "/dev/null"] + (tls.map { ["--cacert", $0.ca] } ?? [])
                + ["\(tls == nil ? "http" : "https")://\(host)/v2/"]
            let up = await Fixtures.poll(seconds: 30, every: 0.2) { () -> Bool? in
                if !process.isRunning { return false }
                return (try? BuildHarness.runBlocking(probe))?.status == 0 ? true : nil
            }
            if up == true {
                self.port = port
                self.host = host
                self.process = process
                return
            }
            Fixtures.killInBackground(process)
        }
        try? FileManager.default.removeItem(atPath: dir)
        throw HarnessError.failed("docker-registry did not start (last tried \(lastHost))")
    }

    deinit {
        Fixtures.killInBackground(process)
        try? FileManager.default.removeItem(atPath: dir)
    }
}
