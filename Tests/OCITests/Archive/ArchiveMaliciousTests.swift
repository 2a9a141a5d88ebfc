import Foundation
import System
import Testing
@testable import OCI
#if canImport(Glibc)
import Glibc
#endif

/// Crafted layers that try to write outside the extraction root.
@Suite("Archive malicious layers")
struct ArchiveMaliciousTests {
    struct Fixture {
        let dir = ScratchDir("evil")
        let root: String
        let outside: String
        init() throws {
            root = dir.sub("root")
            outside = dir.sub("outside")
            writeFile(outside + "/secret", "secret")
        }
        /// Everything outside the root, to prove it was not touched.
        func outsideState() throws -> [String: String] { try snapshot(outside) }
    }

    static func expectRefused(_ layer: [UInt8], entry: String, _ f: Fixture, mode: LayerApplier.Mode = .flatten,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try f.outsideState()
        do {
            try LayerApplier(mode: mode).apply(stream: MemorySource(layer), to: f.root)
            Issue.record("layer was applied", sourceLocation: sourceLocation)
        } catch let e as ArchiveError {
            guard case .unsafePath(let named, _) = e else {
                Issue.record("unexpected error \(e)", sourceLocation: sourceLocation)
                return
            }
            #expect(named == entry, sourceLocation: sourceLocation)
            #expect(e.description.contains("'\(entry)'"), sourceLocation: sourceLocation)
        }
        #expect(try f.outsideState() == before, sourceLocation: sourceLocation)
    }

    @Test("'..' components are refused")
    func dotDot() throws {
        let f = try Fixture()
        try Self.expectRefused(try makeTar([(TarEntry(path: "../outside/pwned", kind: .regular), Array("x".utf8))]),
                               entry: "../outside/pwned", f)
        try Self.expectRefused(try makeTar([(TarEntry(path: "a/b/../../../outside/secret", kind: .regular), Array("x".utf8))]),
                               entry: "a/b/../../../outside/secret", f)
        try Self.expectRefused(try makeTar([(TarEntry(path: "../.wh.outside", kind: .regular), [])]),
                               entry: "../.wh.outside", f)
        #expect(readFile(f.outside + "/secret") == "secret")
    }

    @Test("absolute paths are extracted relative to the root")
    func absolute() throws {
        let f = try Fixture()
        let target = f.outside + "/abs"
        try LayerApplier().apply(stream: MemorySource(try makeTar([(TarEntry(path: target, kind: .regular), Array("x".utf8))])), to: f.root)
        #expect(readFile(f.root + target) == "x")
        #expect(readFile(target) == nil)
    }

    @Test("a symlink that climbs out of the root is not written through")
    func symlinkParentEscape() throws {
        let f = try Fixture()
        let depth = f.root.split(separator: "/").count
        let up = Array(repeating: "..", count: depth + 2).joined(separator: "/")
        try Self.expectRefused(try makeTar([
            (TarEntry(path: "evil", kind: .symlink, linkName: up + f.outside), []),
            (TarEntry(path: "evil/pwned", kind: .regular), Array("x".utf8)),
        ]), entry: "evil/pwned", f)
        // Through a chain of symlinks.
        let f2 = try Fixture()
        try Self.expectRefused(try makeTar([
            (TarEntry(path: "a", kind: .symlink, linkName: "b"), []),
            (TarEntry(path: "b", kind: .symlink, linkName: "c/../.."), []),
            (TarEntry(path: "c", kind: .directory, mode: 0o755), []),
            (TarEntry(path: "a/pwned", kind: .regular), Array("x".utf8)),
        ]), entry: "a/pwned", f2)
    }

    @Test("an absolute symlink is resolved inside the root, as if chrooted")
    func symlinkAbsoluteStaysInside() throws {
        let f = try Fixture()
        let before = try f.outsideState()
        try LayerApplier().apply(stream: MemorySource(try makeTar([
            (TarEntry(path: "evil", kind: .symlink, linkName: f.outside), []),
            (TarEntry(path: "evil/secret", kind: .regular), Array("overwritten".utf8)),
        ])), to: f.root)
        #expect(try f.outsideState() == before)
        #expect(readFile(f.root + f.outside + "/secret") == "overwritten")
    }

    @Test("a file entry replaces a symlink instead of writing through it")
    func finalComponentSymlink() throws {
        let f = try Fixture()
        let before = try f.outsideState()
        try LayerApplier().apply(stream: MemorySource(try makeTar([
            (TarEntry(path: "link", kind: .symlink, linkName: f.outside + "/secret"), []),
            (TarEntry(path: "link", kind: .regular), Array("x".utf8)),
            (TarEntry(path: "dirlink", kind: .symlink, linkName: f.outside), []),
            (TarEntry(path: "dirlink", kind: .directory, mode: 0o777), []),
        ])), to: f.root)
        #expect(try f.outsideState() == before)
        var st = stat()
        #expect(lstat(f.root + "/link", &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG)
        #expect(lstat(f.root + "/dirlink", &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR)
    }

    @Test("hardlinks to targets outside the root are refused")
    func hardlinks() throws {
        let f = try Fixture()
        try Self.expectRefused(try makeTar([(TarEntry(path: "hl", kind: .hardlink, linkName: "../outside/secret"), [])]),
                               entry: "hl", f)
        // Absolute target: looked up inside the root, where it does not exist.
        try Self.expectRefused(try makeTar([(TarEntry(path: "hl", kind: .hardlink, linkName: f.outside + "/secret"), [])]),
                               entry: "hl", f)
        // Through a symlinked parent that leaves the root.
        try Self.expectRefused(try makeTar([
            (TarEntry(path: "up", kind: .symlink, linkName: "../outside"), []),
            (TarEntry(path: "hl", kind: .hardlink, linkName: "up/secret"), []),
        ]), entry: "hl", f)
        // To a symlink pointing outside: the link is to the symlink itself, not its target.
        try LayerApplier().apply(stream: MemorySource(try makeTar([
            (TarEntry(path: "s", kind: .symlink, linkName: f.outside + "/secret"), []),
            (TarEntry(path: "hl2", kind: .hardlink, linkName: "s"), []),
        ])), to: f.root)
        var st = stat()
        #expect(lstat(f.root + "/hl2", &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK)
        var outside = stat()
        #expect(lstat(f.outside + "/secret", &outside) == 0 && outside.st_nlink == 1)
    }

    @Test("overlay xattrs in a layer are dropped, not applied")
    func overlayXattrsDropped() throws {
        let f = try Fixture()
        try LayerApplier(mode: .overlayLower).apply(stream: MemorySource(try makeTar([
            (TarEntry(path: "d", kind: .directory, mode: 0o755,
                      xattrs: ["trusted.overlay.redirect": Array("/etc".utf8), "user.ok": Array("1".utf8)]), []),
        ])), to: f.root)
        let x = try LayerFiles.xattrs(f.root + "/d")
        #expect(x["trusted.overlay.redirect"] == nil)
        #expect(x["user.ok"] == Array("1".utf8))
    }

    @Test("truncated and corrupt layers fail with a clear error")
    func truncatedLayer() async throws {
        let f = try Fixture()
        let tree = f.dir.sub("tree")
        try await makeSampleTree(tree)
        let blob = try LayerWriter(options: .init(compression: .gzip)).write(directory: tree, into: f.dir.path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: blob.file)))
        #expect(throws: ArchiveError.truncatedCompressedStream(format: "gzip")) {
            try LayerApplier().apply(stream: MemorySource(Array(bytes.prefix(bytes.count - 100))), to: f.dir.sub("t1"))
        }
        var corrupt = bytes
        corrupt[corrupt.count / 2] ^= 0xff
        #expect(throws: ArchiveError.self) {
            try LayerApplier().apply(stream: MemorySource(corrupt), to: f.dir.sub("t2"))
        }
        let tar = try makeTar([(TarEntry(path: "big", kind: .regular), [UInt8](repeating: 1, count: 10_000))])
        do {
            try LayerApplier().apply(stream: MemorySource(Array(tar.prefix(4096))), to: f.dir.sub("t3"))
            Issue.record("no error")
        } catch let e as ArchiveError {
            #expect(e.description.contains("truncated") && e.description.contains("'big'"))
        }
    }
}
