import Foundation
import OCI
import Testing
@testable import Build

/// `slipway cache import` with hostile archives (issue 18 #6): a cache's `id` is read from the
/// archive stream, never through the filesystem, and any member where a small regular file or a
/// directory belongs is refused by name.
@Suite("Mounts: cache import of crafted archives")
struct CacheImportTests {
    static let key = String(repeating: "ab", count: 32)

    func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "slipway-cache-import-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: d + "/tmp", withIntermediateDirectories: true)
        return d
    }

    /// Writes a tar of `entries` (regular files get their data's size) to `dir/archive.tar`.
    func archive(_ dir: String, _ entries: [(TarEntry, [UInt8])]) throws -> String {
        let sink = MemorySink()
        let w = TarWriter(sink: sink)
        for (e, data) in entries {
            var e = e
            if e.kind == .regular { e.size = Int64(data.count) }
            try w.add(e)
            if !data.isEmpty { try data.withUnsafeBytes { try w.writeData($0) } }
        }
        try w.finish()
        let path = dir + "/archive.tar"
        try Data(sink.bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func importing(_ dir: String, _ entries: [(TarEntry, [UInt8])]) throws -> (store: CacheMountStore, error: String?, ids: [String]) {
        let store = CacheMountStore(root: dir + "/cache-mounts")
        let file = try archive(dir, entries)
        do {
            return (store, nil, try store.importArchive(file, temporaryDirectory: dir + "/tmp"))
        } catch {
            return (store, "\(error)", [])
        }
    }

    static func dir(_ p: String) -> (TarEntry, [UInt8]) { (TarEntry(path: p, kind: .directory, mode: 0o755), []) }

    @Test("an id member that is a symlink (to /etc/shadow, /dev/zero) is refused by name; nothing is imported")
    func symlinkedID() throws {
        for target in ["/etc/shadow", "/dev/zero"] {
            let dir = try tempDir()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let r = try importing(dir, [Self.dir(Self.key), Self.dir(Self.key + "/data"),
                                        (TarEntry(path: Self.key + "/id", kind: .symlink, linkName: target), [])])
            let message = try #require(r.error, "importing an id linking to \(target) must fail")
            #expect(message.contains("'\(Self.key)/id'") && message.contains("symbolic link to '\(target)'"), "\(message)")
            #expect(r.store.entries().isEmpty)
            #expect(!message.contains("root:"), "the message must not carry the target's content")
        }
    }

    @Test("device, oversized and hardlinked id members, and a symlinked data directory, are refused by name")
    func otherBadMembers() throws {
        let cases: [([(TarEntry, [UInt8])], String)] = [
            ([Self.dir(Self.key), (TarEntry(path: Self.key + "/id", kind: .characterDevice, deviceMajor: 1, deviceMinor: 5), [])],
             "'\(Self.key)/id' is a character device"),
            ([Self.dir(Self.key), (TarEntry(path: Self.key + "/id", kind: .regular), [UInt8](repeating: 0x61, count: 5000))],
             "'\(Self.key)/id' is 5000 bytes, more than 4096"),
            ([Self.dir(Self.key), (TarEntry(path: Self.key + "/data/x", kind: .regular), Array("x".utf8)),
              (TarEntry(path: Self.key + "/id", kind: .hardlink, linkName: Self.key + "/data/x"), [])],
             "'\(Self.key)/id' is a hard link"),
            ([Self.dir(Self.key), (TarEntry(path: Self.key + "/id", kind: .regular), Array("go".utf8)),
              (TarEntry(path: Self.key + "/data", kind: .symlink, linkName: "/"), [])],
             "'\(Self.key)/data' is a symbolic link to '/'"),
            ([Self.dir(Self.key), (TarEntry(path: Self.key + "/id", kind: .regular), Array("go".utf8)),
              (TarEntry(path: Self.key + "/lock", kind: .symlink, linkName: "/etc/passwd"), [])],
             "'\(Self.key)/lock' is not part of a cache"),
        ]
        for (entries, expected) in cases {
            let dir = try tempDir()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let r = try importing(dir, entries)
            let message = try #require(r.error, "expected a failure naming \(expected)")
            #expect(message.contains(expected), "\(message)")
            #expect(r.store.entries().isEmpty)
        }
    }

    @Test("a member written into a cache through a symlink elsewhere in the archive is caught; nothing is imported")
    func writeThroughSymlink() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try importing(dir, [
            Self.dir(Self.key), (TarEntry(path: Self.key + "/id", kind: .regular), Array("go".utf8)), Self.dir(Self.key + "/data"),
            (TarEntry(path: "s", kind: .symlink, linkName: Self.key), []),
            (TarEntry(path: "s/data", kind: .symlink, linkName: "/"), []),
        ])
        let message = try #require(r.error)
        #expect(message.contains("cache '\(Self.key)' was changed by another member"), "\(message)")
        #expect(r.store.entries().isEmpty)
    }

    @Test("a well-formed export imports; control characters in an id are escaped in messages")
    func goodArchive() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try importing(dir, [Self.dir(Self.key), (TarEntry(path: Self.key + "/id", kind: .regular), Array("/go/pkg/mod".utf8)),
                                    Self.dir(Self.key + "/data"), (TarEntry(path: Self.key + "/data/f", kind: .regular), Array("hi".utf8))])
        #expect(r.error == nil, "\(r.error ?? "")")
        #expect(r.ids == ["/go/pkg/mod"])
        #expect(r.store.entries() == [CacheMountStore.Entry(name: Self.key, id: "/go/pkg/mod")])
        #expect((try? String(contentsOfFile: dir + "/cache-mounts/\(Self.key)/data/f", encoding: .utf8)) == "hi")
        // `cache ls` reads ids without following links: a symlinked id is not listed.
        try FileManager.default.removeItem(atPath: dir + "/cache-mounts/\(Self.key)/id")
        try FileManager.default.createSymbolicLink(atPath: dir + "/cache-mounts/\(Self.key)/id", withDestinationPath: "/etc/hostname")
        #expect(r.store.entries().isEmpty)

        let evil = "\u{1B}]0;pwned\u{07}\r\nerror: fake"
        let dir2 = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir2) }
        let bad = try importing(dir2, [Self.dir(Self.key),
                                       (TarEntry(path: Self.key + "/id", kind: .symlink, linkName: evil), [])])
        let message = try #require(bad.error)
        #expect(!message.unicodeScalars.contains { $0.value < 0x20 }, "\(message.debugDescription)")
        #expect(message.contains("\\x1b]0;pwned\\x07\\r\\nerror: fake"), "\(message)")
    }
}
