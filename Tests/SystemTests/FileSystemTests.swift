#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import System

@Suite("FileSystem")
struct FileSystemTests {
    /// Deeper than PATH_MAX can name, with a read-only directory, a name that is not UTF-8 and a
    /// symlink out: all of the tree goes, nothing outside it does.
    @Test func removeTreeRemovesADeepTreeButNothingALinkPointsTo() throws {
        let base = try makeTemporaryDirectory()
        defer { try? FileSystem.removeTree(base) }
        try FileSystem.makeDirectory(base + "/outside")
        try writeFile(base + "/outside/keep", "keep")
        try FileSystem.makeDirectory(base + "/tree")
        var fd = open(base + "/tree", O_RDONLY | O_DIRECTORY)
        for _ in 0..<2000 {
            #expect(mkdirat(fd, "level-with-a-long-name", 0o755) == 0)
            let sub = openat(fd, "level-with-a-long-name", O_RDONLY | O_DIRECTORY)
            close(fd)
            fd = sub
        }
        #expect(symlinkat(base + "/outside", fd, "out") == 0)
        let latin1: [CChar] = [0x63, 0x61, CChar(bitPattern: 0xe9), 0]   // "ca\xe9"
        let f = openat(fd, latin1, O_WRONLY | O_CREAT, 0o644)
        #expect(f >= 0)
        close(f)
        #expect(mkdirat(fd, "readonly", 0o755) == 0)
        let ro = openat(fd, "readonly", O_RDONLY | O_DIRECTORY)
        let inner = openat(ro, "file", O_WRONLY | O_CREAT, 0o644)
        close(inner)
        fchmod(ro, 0o555)
        close(ro)
        close(fd)

        try FileSystem.removeTree(base + "/tree")
        #expect(!FileSystem.exists(base + "/tree"))
        #expect(FileSystem.exists(base + "/outside/keep"))
    }

    @Test func removeTreeOfAMissingPathOrAFileSucceeds() throws {
        let base = try makeTemporaryDirectory()
        defer { try? FileSystem.removeTree(base) }
        try FileSystem.removeTree(base + "/missing")
        try FileSystem.removeTree(base + "/missing/below")
        try writeFile(base + "/file", "x")
        try FileSystem.removeTree(base + "/file")
        #expect(!FileSystem.exists(base + "/file"))
    }

    /// A failure inside the tree does not stop the removal of the rest; the first is thrown.
    @Test func removeTreeCarriesOnPastAFailureAndThrowsIt() throws {
        let base = try makeTemporaryDirectory()
        defer { try? FileSystem.removeTree(base) }
        try FileSystem.makeDirectories(base + "/tree/a")
        try writeFile(base + "/tree/a/one", "1")
        try writeFile(base + "/tree/z", "2")
        try FileSystem.removeTree("relative-name-that-does-not-exist")
        #expect(throws: SystemError.self) { try FileSystem.removeTree(base + "/tree/.") }
        try FileSystem.removeTree(base + "/tree")
        #expect(!FileSystem.exists(base + "/tree"))
    }

    @Test func entriesAreSortedBytewiseAndRawNamesKeepTheirBytes() throws {
        let base = try makeTemporaryDirectory()
        defer { try? FileSystem.removeTree(base) }
        for name in ["b", "B", "a.txt", "a", "é"] { try writeFile(base + "/" + name, name) }
        #expect(try FileSystem.entries(base) == ["B", "a", "a.txt", "b", "é"])
        let fd = open(base, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        let raw = try FileSystem.entryNames(ofDirectory: fd, path: base)
        #expect(raw.last == [0xc3, 0xa9])
        #expect(throws: SystemError(operation: "open", path: base + "/missing", errno: ENOENT)) {
            try FileSystem.entries(base + "/missing")
        }
    }

    @Test func makeDirectoriesCreatesParentsAndFailsOnAFileInTheWay() throws {
        let base = try makeTemporaryDirectory()
        defer { try? FileSystem.removeTree(base) }
        try FileSystem.makeDirectories(base + "/a/b/c", mode: 0o700)
        #expect(FileSystem.isDirectory(base + "/a/b/c"))
        var st = stat()
        #expect(lstat(base + "/a/b", &st) == 0 && st.st_mode & 0o777 == 0o700)
        try FileSystem.makeDirectories(base + "/a/b/c")
        try writeFile(base + "/file", "x")
        #expect(!FileSystem.isDirectory(base + "/file"))
        #expect(throws: SystemError(operation: "mkdir", path: base + "/file/sub/deeper", errno: ENOTDIR)) {
            try FileSystem.makeDirectories(base + "/file/sub/deeper")
        }
        try FileSystem.fsyncDirectory(base + "/a")
        #expect(throws: SystemError.self) { try FileSystem.fsyncDirectory(base + "/nope") }
    }

    @Test func tempNamesCarryThePidAndAreUnique() {
        let names = (0..<1000).map { _ in TempName.path(in: "/x", suffix: ".part") }
        #expect(Set(names).count == names.count)
        let name = String(names[0].dropFirst(3))
        #expect(name.hasPrefix("\(getpid())-") && name.hasSuffix(".part"))
        #expect(TempName.ownerPID(of: name) == getpid())
        #expect(TempName.ownerPID(of: "sha256-abc") == nil)
    }
}
