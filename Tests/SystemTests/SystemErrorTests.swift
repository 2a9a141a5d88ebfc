#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import System
import TestSupport

@Suite("SystemError")
struct SystemErrorTests {
    @Test func describesTheOperationPathAndCError() {
        let error = SystemError(operation: "open", path: "/no/such", errno: ENOENT)
        #expect(error.description == "open /no/such: No such file or directory")
    }

    /// A write that fills a 64 KiB tmpfs says which filesystem is full and how much is left.
    @Test(.requires(.root)) func aFullDiskNamesTheFilesystemAndItsFreeSpace() throws {
        let base = try makeTemporaryDirectory()
        defer { try? FileSystem.removeTree(base) }
        let mountPoint = base + "/small"
        try FileSystem.makeDirectory(mountPoint)
        guard mount("tmpfs", mountPoint, "tmpfs", 0, "size=64k") == 0 else {
            throw SystemError.last("mount", path: mountPoint)
        }
        defer { umount2(mountPoint, Int32(MNT_DETACH)) }
        let file = mountPoint + "/dir/big"
        try FileSystem.makeDirectories(mountPoint + "/dir")
        let fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        #expect(fd >= 0)
        let chunk = [UInt8](repeating: 0x61, count: 1 << 20)
        let e = chunk.withUnsafeBytes { FileIO.writeFully(fd, $0) }
        close(fd)
        #expect(e == ENOSPC)
        let text = SystemError(operation: "write", path: file, errno: e).description
        #expect(text.hasPrefix("write \(file): No space left on device (the filesystem holding '\(file)' is full: "))
        #expect(text.contains(" bytes free; free space there, or move the store with --root or $SLIPWAY_ROOT)"))
        // A path not yet created names its nearest existing ancestor.
        let missing = SystemError.describe(errno: ENOSPC, path: mountPoint + "/not/yet")
        #expect(missing.contains("the filesystem holding '\(mountPoint)' is full"))
        #expect(SystemError.describe(errno: EDQUOT, path: "").hasSuffix("(the disk is full)"))
    }
}
