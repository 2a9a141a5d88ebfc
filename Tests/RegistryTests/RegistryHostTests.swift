import Foundation
import Testing
@testable import Registry

@Suite struct RegistryHostTests {
    @Test func dockerHubNamesNormalise() throws {
        for name in ["docker.io", "index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/"] {
            let host = try RegistryHost(name)
            #expect(host.name == "docker.io")
            #expect(host.apiHost == "registry-1.docker.io")
            #expect(host.baseURL.absoluteString == "https://registry-1.docker.io")
        }
        let hub = try RegistryHost("docker.io")
        #expect(hub.normalizedRepository("alpine") == "library/alpine")
        #expect(hub.normalizedRepository("someone/app") == "someone/app")
        #expect(try RegistryHost("ghcr.io").normalizedRepository("alpine") == "alpine")
    }

    @Test func loopbackIsPlainHTTPOthersHTTPS() throws {
        #expect(try RegistryHost("localhost:5000").baseURL.absoluteString == "http://localhost:5000")
        #expect(try RegistryHost("127.0.0.1:5055").insecure)
        #expect(try RegistryHost("[::1]:5000").insecure)
        #expect(try !RegistryHost("ghcr.io").insecure)
        #expect(try RegistryHost("ghcr.io").baseURL.absoluteString == "https://ghcr.io")
        #expect(try RegistryHost("reg.internal:5000", insecureRegistries: ["reg.internal:5000"]).insecure)
        #expect(try RegistryHost("reg.internal:5000", insecureRegistries: ["reg.internal"]).insecure)
        #expect(try !RegistryHost("reg.internal:5000", insecureRegistries: ["other"]).insecure)
    }

    @Test func rejectsNonHosts() {
        for bad in ["", "a/b", "user@host", "has space"] {
            #expect(throws: RegistryError.self) { try RegistryHost(bad) }
        }
    }
}
