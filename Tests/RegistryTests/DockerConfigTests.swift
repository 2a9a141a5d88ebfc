import Foundation
import Testing
@testable import Registry

@Suite struct DockerConfigTests {
    @Test func readsWritesAndRemovesPreservingOtherKeys() throws {
        let dir = try TempDir("dockercfg")
        defer { dir.remove() }
        let path = dir.file("config.json").path
        // An existing file from docker: Hub entry under its legacy key, and unrelated settings.
        let hubAuth = Data("hubuser:hub:pass".utf8).base64EncodedString()
        try #"{"auths":{"https://index.docker.io/v1/":{"auth":"\#(hubAuth)"}},"psFormat":"table"}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let file = DockerConfigFile(path: path)
        let hub = try RegistryHost("docker.io")
        #expect(try file.credentials(for: hub) == RegistryCredentials(username: "hubuser", password: "hub:pass"))

        let local = try RegistryHost("127.0.0.1:5000")
        #expect(try file.credentials(for: local) == nil)
        try file.store(RegistryCredentials(username: "u", password: "p"), for: local)
        #expect(try file.credentials(for: local) == RegistryCredentials(username: "u", password: "p"))
        #expect(try file.credentials(for: hub)?.username == "hubuser")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        #expect(json["psFormat"] as? String == "table")
        let auths = try #require(json["auths"] as? [String: Any])
        let entry = try #require(auths["127.0.0.1:5000"] as? [String: Any])
        #expect(entry["auth"] as? String == Data("u:p".utf8).base64EncodedString())
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        #expect(try file.remove(for: local))
        #expect(try file.credentials(for: local) == nil)
        #expect(try !file.remove(for: local))
        #expect(try file.credentials(for: hub) != nil)
    }

    @Test func dockerConfigEnvironmentChoosesTheFile() {
        #expect(DockerConfigFile.defaultPath(environment: ["DOCKER_CONFIG": "/x/y", "HOME": "/home/h"]) == "/x/y/config.json")
        #expect(DockerConfigFile.defaultPath(environment: ["HOME": "/home/h"]) == "/home/h/.docker/config.json")
    }

    @Test func corruptFileIsAClearError() throws {
        let dir = try TempDir("dockercfg")
        defer { dir.remove() }
        let path = dir.file("config.json").path
        try "{not json".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: RegistryError.self) { try DockerConfigFile(path: path).credentials(for: RegistryHost("ghcr.io")) }
    }
}
