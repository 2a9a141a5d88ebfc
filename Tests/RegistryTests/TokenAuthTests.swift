import Foundation
import OCI
import Testing
@testable import Registry

/// The Bearer flow end to end: registry `auth: token` + a token server on 127.0.0.1.
@Suite struct TokenAuthTests {
    @Test func bearerTokensForPullAndPushAreFetchedCachedAndScoped() async throws {
        try await TokenServer.withRegistry(user: "dev", password: "t0ken") { tokens, registry in
            let a = try TestStore(), b = try TestStore()
            let cfgDir = try TempDir("tokcfg")
            defer { a.remove(); b.remove(); cfgDir.remove() }
            let ref = try ImageReference(parsing: "\(registry.host)/tok/app:1")
            let image = try await a.importImage(tag: ref.description, files: 2)
            let config = DockerConfigFile(path: cfgDir.file("config.json").path)

            // Anonymous: the token server grants pull only, so the push is refused clearly.
            let anonymous = ImageTransfer(access: RegistryAccess(configFile: config,
                                                                 options: RegistryClientOptions(retry: .none)))
            do {
                try await anonymous.push(ref.description, from: a.store)
                Issue.record("anonymous push succeeded")
            } catch let error as RegistryError {
                guard case .unauthorized = error else { Issue.record("wrong error: \(error)"); return }
            }

            try config.store(RegistryCredentials(username: "dev", password: "t0ken"), for: RegistryHost(registry.host))
            let authed = ImageTransfer(access: RegistryAccess(configFile: config))
            let before = tokens.requests.count
            try await authed.push(ref.description, from: a.store)
            let pushRequests = tokens.requests.dropFirst(before)
            #expect(pushRequests.allSatisfy { $0.hasPrefix("dev ") })
            #expect(pushRequests.contains { $0.contains("repository:tok/app:pull,push") })
            // One client pushes config and layer concurrently, yet tokens are cached per scope.
            #expect(pushRequests.count <= 3, "token requests: \(Array(pushRequests))")

            // Anonymous pull is allowed by the token server.
            let pulled = try await anonymous.pull(ref, into: b.store)
            #expect(pulled.manifestDigest == image.manifestDigest)
            #expect(tokens.requests.contains { $0.hasPrefix("- ") && $0.contains("repository:tok/app:pull") })

            // Wrong credentials: the token server says 401, the client says not authorized.
            let wrong = try RegistryClient(host: RegistryHost(registry.host),
                                           credentials: RegistryCredentials(username: "dev", password: "nope"),
                                           options: RegistryClientOptions(retry: .none))
            await #expect(throws: RegistryError.self) {
                try await wrong.fetchManifest(repository: "tok/app", reference: "1")
            }
        }
    }
}
