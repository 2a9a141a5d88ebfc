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

    @Test func platformParsingAndSelection() throws {
        #expect(try PlatformChoice(parsing: "linux/arm64/v8") == PlatformChoice(os: "linux", architecture: "arm64", variant: "v8"))
        #expect(try PlatformChoice(parsing: "linux/x86_64").architecture == "amd64")
        #expect(throws: RegistryError.self) { try PlatformChoice(parsing: "linux") }
        let amd = "sha256:" + String(repeating: "a", count: 64)
        let arm = "sha256:" + String(repeating: "b", count: 64)
        let index = Data("""
        {"schemaVersion":2,"manifests":[
          {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(amd)","size":1,"platform":{"os":"linux","architecture":"amd64"}},
          {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(arm)","size":2,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}
        """.utf8)
        #expect(try PlatformChoice(parsing: "linux/amd64").select(fromIndex: index).digest.description == amd)
        #expect(try PlatformChoice(parsing: "linux/arm64").select(fromIndex: index).digest.description == arm)
        #expect(try PlatformChoice(parsing: "linux/arm64/v8").select(fromIndex: index).size == 2)
        #expect(throws: RegistryError.self) { try PlatformChoice(parsing: "linux/s390x").select(fromIndex: index) }
    }
}
