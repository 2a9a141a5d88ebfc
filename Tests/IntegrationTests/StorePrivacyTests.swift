import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The store is private to its owner (issue 18 #1, moby's CVE-2021-41091): snapshots hold the
/// images' setuid binaries and device nodes, `blobs/` their content, so no other local user may
/// reach anything below the root.
@Suite("Store: private directories", .serialized)
struct StorePrivacyTests {
    static let requirements = BuildHarness.requirements + [.executable(at: "/usr/bin/setpriv", package: "util-linux"),
                                                           .executable(at: "/usr/bin/id", package: "coreutils")]

    /// Runs `argv` as nobody (uid/gid 65534, no supplementary groups). The program path is
    /// resolved by a shell already running as nobody: setpriv itself finds it while still root.
    static func asNobody(_ argv: [String]) async throws -> BuildHarness.Result {
        try await BuildHarness.run(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                                    "/bin/sh", "-c", "exec \"$0\" \"$@\""] + argv)
    }

    static func mode(_ path: String) -> mode_t? {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & 0o7777 : nil
    }

    @Test("an extracted setuid-root binary cannot be run by another user; blobs/ is not readable",
          .requires(Self.requirements))
    func setuidBinaryInSnapshotGivesNoRoot() async throws {
        let s = try BuildSandbox()
        // The sandbox's own directory is 0755, so only the store's modes stand in the way.
        let fixture = try await BuildHarness.fixture("busybox")
        let rootfs = s.root + "/rootfs"
        let prepared = try await BuildHarness.run(["/bin/sh", "-c", """
            set -e
            cp -a '\(fixture)/rootfs' '\(rootfs)'
            cp /usr/bin/id '\(rootfs)/bin/suid-id' && chown 0:0 '\(rootfs)/bin/suid-id' && chmod 4755 '\(rootfs)/bin/suid-id'
            tar --sort=name --numeric-owner -C '\(rootfs)' -cf '\(s.root)/suid.tar' .
            cp -p '\(rootfs)/bin/suid-id' '\(s.root)/control-id'
            """])
        try #require(prepared.status == 0, "\(prepared.combined)")
        // Control: the same file outside the store does give nobody euid 0, so the check below
        // can fail (it is the store's modes that stop it, not the test's setup).
        let control = try await Self.asNobody([s.root + "/control-id"])
        try #require(control.stdout.contains("euid=0"), "control run: \(control.combined)")

        try #require(try await s.slipway(["import", s.root + "/suid.tar", "suid:1"]).status == 0)
        // Running the image once extracts its layer under snapshots/.
        let run = try await s.slipway(["run", "suid:1", "/bin/true"])
        #expect(run.status == 0, "\(run.combined)")

        let snapshots = (try? FileManager.default.contentsOfDirectory(atPath: s.store + "/snapshots")) ?? []
        let extracted = snapshots.map { s.store + "/snapshots/" + $0 + "/bin/suid-id" }.filter { FileManager.default.fileExists(atPath: $0) }
        try #require(extracted.count == 1, "snapshots: \(snapshots)")
        #expect(Self.mode(extracted[0]) == 0o4755, "the snapshot keeps the setuid bit (it is the image's content)")

        let attempt = try await Self.asNobody([extracted[0]])
        #expect(attempt.status != 0, "nobody ran \(extracted[0]): \(attempt.combined)")
        #expect(!attempt.stdout.contains("euid=0"), "nobody got root: \(attempt.stdout)")
        let listing = try await Self.asNobody(["/bin/ls", s.store + "/blobs/sha256"])
        #expect(listing.status != 0 && listing.stdout.isEmpty, "nobody listed the blobs: \(listing.combined)")
        let blob = try await Self.asNobody(["/bin/sh", "-c", "cat '\(s.store)'/blobs/sha256/* | wc -c"])
        #expect(blob.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "nobody read blob bytes: \(blob.combined)")

        for dir in ["", "/blobs", "/blobs/sha256", "/snapshots", "/tmp"] {
            let m = Self.mode(s.store + dir)
            #expect(m.map { $0 & 0o077 == 0 } == true, "\(s.store + dir) has mode \(String(m ?? 0, radix: 8))")
        }
    }

    @Test("a store left open to other users is made private when opened", .requires(Self.requirements))
    func looseStoreIsTightened() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        let dirs = ["", "/blobs", "/blobs/sha256", "/snapshots", "/tmp"]
        for dir in dirs { chmod(s.store + dir, 0o755) }
        mkdir(s.store + "/scratch", 0o777)
        chmod(s.store + "/scratch", 0o777)
        let images = try await s.slipway(["images"])
        #expect(images.status == 0, "\(images.combined)")
        for dir in dirs + ["/scratch"] {
            #expect(Self.mode(s.store + dir) == 0o700, "\(s.store + dir): \(String(Self.mode(s.store + dir) ?? 0, radix: 8))")
        }
    }
}
