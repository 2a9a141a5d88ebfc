import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A full disk says so: `import` into a store on a small tmpfs names the filesystem and its free
/// bytes (not "not a valid root filesystem tarball"), and a RUN that fills the scratch
/// filesystem (`$SLIPWAY_SCRATCH`, here a tmpfs) fails with a note naming it. Both tmpfs are
/// mounted by the test in its own directory.
@Suite("Store: a full disk says so", .serialized, .requires(BuildHarness.requirements))
struct StoreDiskFullTests {
    @Test func importOnAFullDiskNamesTheFilesystem() async throws {
        let s = try BuildSandbox()
        let small = s.root + "/small-store"
        try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: true)
        try #require(mount("tmpfs", small, "tmpfs", 0, "size=2m,mode=0700") == 0, "mount tmpfs: \(errno)")
        defer { _ = umount2(small, Int32(MNT_DETACH)) }
        // 8 MB of random bytes: incompressible, so the layer cannot fit in 2 MB.
        let made = try await BuildHarness.run(["/bin/sh", "-c", """
            set -e
            mkdir -p '\(s.root)/rootfs'
            head -c 8000000 /dev/urandom > '\(s.root)/rootfs/noise'
            tar -C '\(s.root)/rootfs' -cf '\(s.root)/rootfs.tar' noise
            """])
        try #require(made.status == 0, "\(made.combined)")
        let r = try await BuildHarness.run([BuildHarness.binary, "import", s.root + "/rootfs.tar", "full:1", "--root", small])
        #expect(r.status != 0)
        #expect(r.stderr.contains("No space left on device") && r.stderr.contains("is full"), "\(r.stderr)")
        #expect(!r.stderr.contains("not a valid root filesystem tarball"), "\(r.stderr)")
        let fsck = try await BuildHarness.run([BuildHarness.binary, "fsck", "--root", small])
        #expect(fsck.status == 0, "\(fsck.combined)")
    }

    @Test func aRunThatFillsTheScratchFilesystemSaysWhere() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        let scratch = s.root + "/scratch-fs"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        try #require(mount("tmpfs", scratch, "tmpfs", 0, "size=8m,mode=0700") == 0, "mount tmpfs: \(errno)")
        defer { _ = umount2(scratch, Int32(MNT_DETACH)) }
        try s.write("Dockerfile", "FROM busybox\nRUN dd if=/dev/zero of=/big bs=1M count=32\n")
        let r = try await BuildHarness.run([BuildHarness.binary, "build", "--progress", "plain", "--root", s.store, s.context],
                                           env: ["SLIPWAY_SCRATCH": scratch])
        #expect(r.status != 0)
        #expect(r.stderr.contains("note: the scratch filesystem holding \(scratch)") && r.stderr.contains("$SLIPWAY_SCRATCH"), "\(r.stderr.suffix(800))")
        // Nothing is left mounted there, and the same build with room works.
        #expect(BuildHarness.mounts(under: scratch + "/").isEmpty, "\(BuildHarness.mounts(under: scratch + "/"))")
        try s.write("Dockerfile", "FROM busybox\nRUN dd if=/dev/zero of=/big bs=1M count=2\n")
        let ok = try await BuildHarness.run([BuildHarness.binary, "build", "--progress", "plain", "--root", s.store, s.context],
                                            env: ["SLIPWAY_SCRATCH": scratch])
        #expect(ok.status == 0, "\(ok.combined)")
    }
}
