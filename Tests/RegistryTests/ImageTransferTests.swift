import Foundation
import OCI
import Testing
@testable import Registry

/// Whole-image pull and push between the store and a real registry.
@Suite struct ImageTransferTests {
    @Test func pushToRegistryThenPullIntoAnEmptyStore() async throws {
        try await RegistryServer.with { registry in
            let a = try TestStore(), b = try TestStore()
            defer { a.remove(); b.remove() }
            let ref = try ImageReference(parsing: "\(registry.host)/team/app:1.0")
            let image = try await a.importImage(tag: ref.description)
            let lines = LineLog()
            let transfer = ImageTransfer(access: RegistryAccess(), progress: { lines.add($0) })

            let pushed = try await transfer.push(ref.description, from: a.store)
            #expect(pushed.manifestDigest == image.manifestDigest)
            #expect(pushed.uploadedBlobs == 2)
            let again = try await transfer.push(ref.description, from: a.store)
            #expect(again.skippedBlobs == 2 && again.uploadedBlobs == 0)

            let pulled = try await transfer.pull(ref, into: b.store)
            #expect(pulled.manifestDigest == image.manifestDigest)
            #expect(pulled.image.configDigest == image.configDigest)
            #expect(pulled.fetchedBlobs == 2)
            #expect(try b.store.resolve(ref.description).manifestDigest == image.manifestDigest)
            #expect(try b.store.fsck().isValid)
            #expect(lines.all.contains { $0.hasSuffix(": done") })

            // An explicit platform that a single-platform image does not have is an error.
            await #expect(throws: TransferError.self) {
                try await transfer.pull(ref, into: b.store, platform: Platform(parsing: "linux/s390x"))
            }
            let repull = try await transfer.pull(ref, into: b.store)
            #expect(repull.fetchedBlobs == 0 && repull.skippedBlobs == 2)

            // Same registry, other repository: the layer is mounted, not uploaded.
            let other = try ImageReference(parsing: "\(registry.host)/team/copy:2")
            let mounted = try await transfer.push(ref.description, to: other, from: a.store)
            #expect(mounted.mountedBlobs == 2)
            #expect(try await transfer.pull(other, into: b.store).manifestDigest == image.manifestDigest)

            // ensureImage: present -> no network; pull: true -> re-checks and is up to date.
            let ensured = try await transfer.ensureImage(ref, in: b.store)
            #expect(ensured.manifestDigest == image.manifestDigest)
            let missing = try ImageReference(parsing: "\(registry.host)/team/none:1")
            await #expect(throws: RegistryError.self) { try await transfer.ensureImage(missing, in: b.store) }
        }
    }

    @Test func indexResolvesToTheRequestedPlatform() async throws {
        try await RegistryServer.with { registry in
            let a = try TestStore(), b = try TestStore()
            defer { a.remove(); b.remove() }
            let ref = try ImageReference(parsing: "\(registry.host)/multi/app:amd")
            let amd = try await a.importImage(tag: ref.description, files: 1)
            let transfer = ImageTransfer()
            try await transfer.push(ref.description, from: a.store)
            // An arm64 sibling with no layers, and an index over both.
            let client = try RegistryClient(registry: registry.host)
            let config = Data(#"{"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.utf8)
            try await client.pushBlob(repository: "multi/app", data: config)
            let armManifest = makeManifest(config: Digest.sha256(config), configSize: config.count, layers: [])
            let armDigest = try await client.putManifest(repository: "multi/app", reference: Digest.sha256(armManifest).description,
                                                         data: armManifest, mediaType: MediaType.ociManifest)
            let amdSize = try a.store.content.readBlob(amd.manifestDigest).count
            let index = Data("""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[\
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(amd.manifestDigest)","size":\(amdSize),"platform":{"os":"linux","architecture":"amd64"}},\
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(armDigest)","size":\(armManifest.count),"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}
            """.utf8)
            try await client.putManifest(repository: "multi/app", reference: "all", data: index, mediaType: MediaType.ociIndex)

            let all = try ImageReference(parsing: "\(registry.host)/multi/app:all")
            let arm = try await transfer.pull(all, into: b.store, platform: Platform(parsing: "linux/arm64"))
            #expect(arm.manifestDigest == armDigest)
            #expect(arm.image.platform.architecture == "arm64")
            let x86 = try await transfer.pull(all, into: b.store, platform: Platform(parsing: "linux/amd64"))
            #expect(x86.manifestDigest == amd.manifestDigest)
            do {
                _ = try await transfer.pull(all, into: b.store, platform: Platform(parsing: "linux/s390x"))
                Issue.record("pulled a platform the index does not have")
            } catch let error as TransferError {
                guard case .noMatchingPlatform(_, let available) = error else { Issue.record("wrong error \(error)"); return }
                #expect(available.contains("linux/amd64"))
            }
        }
    }

    @Test("a push asks the registry once per blob whether it has it (one HEAD, not two)")
    func pushAsksOncePerBlob() async throws {
        try await RegistryServer.with { registry in
            try await FaultProxy.with(upstreamPort: registry.port) { proxy in
                let a = try TestStore()
                defer { a.remove() }
                let image = try await a.importImage(tag: "\(proxy.host)/once/app:1")
                let pushed = try await ImageTransfer(access: RegistryAccess()).push("\(proxy.host)/once/app:1", from: a.store)
                #expect(pushed.uploadedBlobs == 2)
                let heads = try await proxy.requests().filter { $0.method == "HEAD" && $0.path.contains("/blobs/") }
                #expect(heads.count == 2, "\(heads.map(\.path))")
                #expect(Set(heads.map(\.path)).count == 2 && image.layers.allSatisfy { l in heads.contains { $0.path.hasSuffix(l.description) } })
            }
        }
    }

    @Test func corruptLayerNeverLandsInTheStore() async throws {
        try await RegistryServer.with { registry in
            try await FaultProxy.with(upstreamPort: registry.port) { proxy in
                let a = try TestStore(), b = try TestStore()
                defer { a.remove(); b.remove() }
                let direct = try ImageReference(parsing: "\(registry.host)/c/app:1")
                let image = try await a.importImage(tag: direct.description)
                let transfer = ImageTransfer(access: RegistryAccess(options: RegistryClientOptions(retry: RetryPolicy(baseDelay: 0.01))))
                try await transfer.push(direct.description, from: a.store)
                let layer = try #require(image.layers.first)

                try await proxy.setRules([.init(method: "GET", path: "/blobs/\(layer)", action: .corrupt, times: 100)])
                let viaProxy = try ImageReference(parsing: "\(proxy.host)/c/app:1")
                do {
                    _ = try await transfer.pull(viaProxy, into: b.store)
                    Issue.record("a corrupt layer was pulled")
                } catch let error as RegistryError {
                    guard case .digestMismatch = error else { Issue.record("wrong error \(error)"); return }
                }
                #expect(!b.store.content.hasBlob(layer))
                #expect(throws: (any Error).self) { try b.store.resolve(viaProxy.description) }

                // A truncated transfer and a 500 are recovered from.
                try await proxy.setRules([
                    .init(method: "GET", path: "/blobs/\(layer)", action: .truncate),
                    .init(method: "GET", path: "/manifests/", action: .status, status: 500),
                ])
                let pulled = try await transfer.pull(viaProxy, into: b.store)
                #expect(pulled.manifestDigest == image.manifestDigest)
                #expect(b.store.content.hasBlob(layer))
                #expect(try b.store.fsck().isValid)
            }
        }
    }

    @Test func basicAuthRegistryPushAndPull() async throws {
        try await RegistryServer.with(auth: .htpasswd(user: "ci", password: "hunter2")) { registry in
            let a = try TestStore(), b = try TestStore()
            let cfgDir = try TempDir("auth")
            defer { a.remove(); b.remove(); cfgDir.remove() }
            let ref = try ImageReference(parsing: "\(registry.host)/private/app:1")
            let image = try await a.importImage(tag: ref.description, files: 1)
            let config = DockerConfigFile(path: cfgDir.file("config.json").path)

            let anonymous = ImageTransfer(access: RegistryAccess(configFile: config))
            await #expect(throws: RegistryError.self) { try await anonymous.push(ref.description, from: a.store) }

            try config.store(RegistryCredentials(username: "ci", password: "hunter2"), for: RegistryHost(registry.host))
            let authed = ImageTransfer(access: RegistryAccess(configFile: config))
            try await authed.push(ref.description, from: a.store)
            #expect(try await authed.pull(ref, into: b.store).manifestDigest == image.manifestDigest)
        }
    }
}

/// Collects progress lines from concurrent transfers.
final class LineLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
