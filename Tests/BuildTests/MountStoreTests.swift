import Foundation
import Testing
@testable import Build

@Suite("Mounts: secrets flags and the cache-mount store")
struct MountStoreTests {
    func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "slipway-mount-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test("--secret forms: src file, env var, bare id; bad forms are clear errors")
    func secretFlags() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "s3cret".write(toFile: dir + "/tok", atomically: true, encoding: .utf8)
        let s = try SecretStore.parse(["id=a,src=\(dir)/tok", "id=b,env=MY_VAR", "id=HOME"], environment: ["HOME": "/root"])
        #expect(s.sources["a"] == .file(dir + "/tok"))
        #expect(s.sources["b"] == .env("MY_VAR"))
        #expect(s.sources["HOME"] == .env("HOME"))
        #expect(try s.value("a") == Array("s3cret".utf8))
        #expect(try s.value("missing") == nil)
        #expect(throws: MountUseError.self) { try SecretStore.parse(["src"]) }
        #expect(throws: MountUseError.self) { try SecretStore.parse(["id=x,src=\(dir)/nope"]) }
        #expect(throws: MountUseError.self) { try SecretStore.parse(["id=x,colour=red"]) }
    }

    @Test("cache mounts persist by id, private sharing gets a second instance, export/import round-trips, prune skips busy ones")
    func cacheStore() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = CacheMountStore(root: dir + "/cache-mounts")
        let a = try await store.acquire(id: "/go/pkg/mod", seed: nil, sharing: .shared, mode: 0o750, uid: 0, gid: 0, populate: nil)
        try "x".write(toFile: a.dataPath + "/f", atomically: true, encoding: .utf8)
        var st = stat()
        #expect(stat(a.dataPath, &st) == 0 && st.st_mode & 0o777 == 0o750)
        a.release()
        let again = try await store.acquire(id: "/go/pkg/mod", seed: nil, sharing: .locked, mode: 0o755, uid: 0, gid: 0, populate: nil)
        #expect(FileManager.default.fileExists(atPath: again.dataPath + "/f"), "same id, same directory")
        // While `again` holds it exclusively, a private user gets another instance.
        let other = try await store.acquire(id: "/go/pkg/mod", seed: nil, sharing: .private, mode: 0o755, uid: 0, gid: 0, populate: nil)
        #expect(other.dataPath != again.dataPath)
        #expect(!FileManager.default.fileExists(atPath: other.dataPath + "/f"))
        other.release()
        // Busy caches survive prune. A child process that another test is forking at this moment
        // can hold a copy of the released lock's descriptor until it execs (O_CLOEXEC), so the
        // idle instance may look busy for an instant: retry briefly.
        var removed = store.prune()
        for _ in 0..<50 where removed.isEmpty {
            try await Task.sleep(for: .milliseconds(100))
            removed = store.prune()
        }
        #expect(removed == ["/go/pkg/mod"], "only the idle private instance goes: \(removed)")
        #expect(FileManager.default.fileExists(atPath: again.dataPath + "/f"))
        again.release()

        let seeded = try await store.acquire(id: "seeded", seed: "stage:/src", sharing: .shared, mode: 0o755, uid: 0, gid: 0) { d in
            try "seed".write(toFile: d + "/s", atomically: true, encoding: .utf8)
        }
        seeded.release()
        #expect(Set(store.entries().map(\.id)) == ["/go/pkg/mod", "seeded"])

        let tar = dir + "/caches.tar"
        try FileManager.default.createDirectory(atPath: dir + "/tmp", withIntermediateDirectories: true)
        #expect(try store.export(to: tar, ids: ["/go/pkg/mod"]) == ["/go/pkg/mod"])
        #expect(throws: MountUseError.self) { try store.export(to: tar + "2", ids: ["nope"]) }
        let target = CacheMountStore(root: dir + "/elsewhere/cache-mounts")
        #expect(try target.importArchive(tar, temporaryDirectory: dir + "/tmp") == ["/go/pkg/mod"])
        let imported = try await target.acquire(id: "/go/pkg/mod", seed: nil, sharing: .shared, mode: 0o755, uid: 0, gid: 0, populate: nil)
        #expect(try String(contentsOfFile: imported.dataPath + "/f", encoding: .utf8) == "x")
        imported.release()
        #expect(store.prune().count == 2)
        #expect(store.entries().isEmpty)
    }

    @Test("sharing=locked: a second user waits until the first releases the cache")
    func lockedWaits() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = CacheMountStore(root: dir + "/cache-mounts")
        let first = try await store.acquire(id: "apt", seed: nil, sharing: .locked, mode: 0o755, uid: 0, gid: 0, populate: nil)
        let waiter = Task { () -> Date in
            let second = try await store.acquire(id: "apt", seed: nil, sharing: .locked, mode: 0o755, uid: 0, gid: 0, populate: nil)
            let when = Date()
            second.release()
            return when
        }
        try await Task.sleep(nanoseconds: 300_000_000)
        let released = Date()
        first.release()
        let acquired = try await waiter.value
        #expect(acquired >= released, "the second locked user got the cache only after the first released it")
    }
}
