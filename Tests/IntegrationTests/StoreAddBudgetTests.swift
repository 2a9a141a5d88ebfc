import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Issue 18 #9: ADD of a local archive unpacks into the store's filesystem with a size budget, so a
/// decompression bomb (here 200 MB of zeros in a 200 KB tar.gz) fails with a message naming the
/// archive and the limit before the disk is full, leaves nothing behind, and the store keeps
/// working. The store lives on a 64 MB tmpfs the test mounts in its own directory.
@Suite("Store: ADD size budget", .serialized, .requires(BuildHarness.requirements))
struct StoreAddBudgetTests {
    @Test func decompressionBombStopsBeforeTheDiskIsFull() async throws {
        let s = try BuildSandbox()
        try FileManager.default.createDirectory(atPath: s.store, withIntermediateDirectories: true)
        try #require(mount("tmpfs", s.store, "tmpfs", 0, "size=64m,mode=0700") == 0, "mount tmpfs: \(errno)")
        defer { _ = umount2(s.store, Int32(MNT_DETACH)) }
        try await s.importFixture("busybox", as: "busybox")

        let made = try await BuildHarness.run(["/bin/sh", "-c", """
            set -e
            mkdir -p '\(s.root)/bomb'
            head -c 200000000 /dev/zero > '\(s.root)/bomb/zeros'
            tar -C '\(s.root)/bomb' -czf '\(s.context)/bomb.tar.gz' zeros
            rm -r '\(s.root)/bomb'
            echo ok > '\(s.context)/small.txt'
            """])
        try #require(made.status == 0, "\(made.combined)")
        try s.write("Dockerfile", "FROM busybox\nADD bomb.tar.gz /bomb/\n")
        let r = try await s.build(["-t", "bomb"])
        #expect(r.status != 0)
        #expect(r.combined.contains("bomb.tar.gz"), "\(r.combined)")
        #expect(r.combined.contains("the space free on the store's filesystem"), "\(r.combined)")
        #expect(r.combined.contains("Dockerfile:2"), "\(r.combined)")

        // Nothing of the attempt is left: the tmpfs is back to (about) what the base needs, and
        // the store is valid and still builds.
        var st = statvfs()
        try #require(statvfs(s.store, &st) == 0)
        let used = (Int64(st.f_blocks) - Int64(st.f_bfree)) * Int64(st.f_frsize)
        #expect(used < 16 << 20, "store uses \(used) bytes after the failed ADD")
        let fsck = try await s.slipway(["fsck"])
        #expect(fsck.status == 0, "\(fsck.combined)")
        try s.write("Dockerfile", "FROM busybox\nADD small.txt /small.txt\nRUN cat /small.txt > /copy\n")
        let ok = try await s.build(["-t", "small"])
        #expect(ok.status == 0, "\(ok.combined)")
        let run = try await s.slipway(["run", "small", "cat", "/copy"])
        #expect(run.stdout == "ok\n", "\(run.combined)")
    }
}
