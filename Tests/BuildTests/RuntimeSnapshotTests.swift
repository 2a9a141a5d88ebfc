#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import Build
import CLinux
import TestSupport
import System

@Suite("RuntimeSnapshot", .requires(.root))
struct RuntimeSnapshotTests {
    @Test func scratchHasNoLowerAndRecordsWrites() throws {
        let scratch = try RuntimeFixture.scratch()
        defer { try? FileSystem.removeTree(scratch) }
        let snapshot = try OverlaySnapshot(lowerDirs: [], in: scratch)
        try snapshot.mount()
        #expect(snapshot.isMounted)
        #expect(RuntimeFixture.overlayMounts(under: scratch) == [snapshot.mergedDir])
        #expect((try? FileSystem.entries(snapshot.mergedDir)) == [])
        #expect(!snapshot.hasChanges())
        try FileIO.writeFile(Array(("x").utf8), to: snapshot.mergedDir + "/file")
        try snapshot.unmount()
        #expect(RuntimeFixture.overlayMounts(under: scratch).isEmpty)
        #expect(snapshot.hasChanges())
        #expect(FileIO.readText(snapshot.upperDir + "/file") == "x")
        snapshot.remove()
        #expect(access(snapshot.directory, F_OK) != 0)
        snapshot.remove()   // idempotent
    }

    @Test func mountOptionsDisableRedirectMetacopyIndex() throws {
        let scratch = try RuntimeFixture.scratch()
        defer { try? FileSystem.removeTree(scratch) }
        let lower = scratch + "/lower"
        try FileSystem.makeDirectories(lower + "/dir/sub")
        try FileIO.writeFile(Array(("a").utf8), to: lower + "/dir/sub/f")
        let snapshot = try OverlaySnapshot(lowerDirs: [lower], in: scratch)
        defer { snapshot.remove() }
        try snapshot.mount()
        let line = (FileIO.readText("/proc/self/mounts") ?? "").split(separator: "\n").first { $0.contains(snapshot.mergedDir) }
        let options = line.map(String.init) ?? ""
        #expect(!options.contains("redirect_dir=on") && !options.contains("metacopy=on") && !options.contains("index=on"), "\(options)")
        // With redirect_dir off, renaming a lower directory copies it whole into the upper dir.
        #expect(rename(snapshot.mergedDir + "/dir", snapshot.mergedDir + "/moved") == 0 || errno == EXDEV)
        chmod(snapshot.mergedDir + "/dir/sub/f", 0o600)   // exists only if rename failed with EXDEV
        try snapshot.unmount()
        var st = stat()
        if lstat(snapshot.upperDir + "/moved", &st) == 0 {
            #expect(FileIO.readText(snapshot.upperDir + "/moved/sub/f") == "a", "a renamed dir must be a full copy")
        } else {
            // Metacopy off: a chmod copies the data too.
            #expect(FileIO.readText(snapshot.upperDir + "/dir/sub/f") == "a")
        }
    }

    @Test func manyLayersWithLongPathsMount() throws {
        let scratch = try RuntimeFixture.scratch()
        defer { try? FileSystem.removeTree(scratch) }
        // 120 layers whose paths are ~100 bytes each: 12 KB of lowerdir, three times a page.
        let long = scratch + "/" + String(repeating: "d", count: 60)
        var lowers: [String] = []
        for i in 0..<120 {
            let dir = long + "/layer-\(String(format: "%04d", i))-" + String(repeating: "x", count: 20)
            try FileSystem.makeDirectories(dir)
            try FileIO.writeFile(Array(("\(i)").utf8), to: dir + "/file-\(i)")
            try FileIO.writeFile(Array(("\(i)").utf8), to: dir + "/shadowed")
            lowers.insert(dir, at: 0)   // topmost first: the last one written is on top
        }
        #expect(lowers.joined(separator: ":").utf8.count > 3 * 4096)
        let snapshot = try OverlaySnapshot(lowerDirs: lowers, in: scratch)
        defer { snapshot.remove() }
        try snapshot.mount()
        #expect(FileIO.readText(snapshot.mergedDir + "/file-0") == "0")
        #expect(FileIO.readText(snapshot.mergedDir + "/file-119") == "119")
        #expect(FileIO.readText(snapshot.mergedDir + "/shadowed") == "119")
        try snapshot.unmount()
        #expect(RuntimeFixture.overlayMounts(under: scratch).isEmpty)
    }

    @Test func lowerStackLookupHonoursWhiteoutsAndOpaqueDirs() throws {
        let scratch = try RuntimeFixture.scratch()
        defer { try? FileSystem.removeTree(scratch) }
        let bottom = scratch + "/bottom", top = scratch + "/top"
        try FileSystem.makeDirectories(bottom + "/etc/sub")
        try FileSystem.makeDirectories(bottom + "/opt/keep")
        try FileIO.writeFile(Array(("").utf8), to: bottom + "/etc/hosts")
        try FileIO.writeFile(Array(("").utf8), to: bottom + "/etc/sub/f")
        try FileSystem.makeDirectories(top + "/etc")
        try FileSystem.makeDirectories(top + "/opt")
        mknod(top + "/etc/hosts", S_IFCHR, 0)   // whiteout
        setxattr(top + "/opt", "trusted.overlay.opaque", "y", 1, 0)
        let stack = [top, bottom]
        #expect(LowerStack.lookup(stack, "/etc") == .directory)
        #expect(LowerStack.lookup(stack, "/etc/hosts") == nil)
        #expect(LowerStack.lookup(stack, "/etc/sub/f") == .file)
        #expect(LowerStack.lookup(stack, "/opt/keep") == nil)
        #expect(LowerStack.lookup([bottom], "/opt/keep") == .directory)
        #expect(LowerStack.lookup(stack, "/proc") == nil)
    }
}

@Suite("RuntimeUser")
struct RuntimeUserTests {
    let passwd = """
    root:x:0:0:root:/root:/bin/sh
    app:x:1000:1000:app:/home/app:/bin/sh
    svc:x:999:999::/srv:/bin/false
    """
    let group = """
    root:x:0:
    staff:x:50:app,svc
    app:x:1000:
    svc:x:999:
    audio:x:29:app
    """

    @Test func namesAndNumbersResolveLikeDocker() throws {
        #expect(try ResolvedUser.resolve("", passwd: passwd, group: group) == ResolvedUser(uid: 0, gid: 0, home: "/root"))
        #expect(try ResolvedUser.resolve("app", passwd: passwd, group: group)
                == ResolvedUser(uid: 1000, gid: 1000, additionalGids: [50, 29], home: "/home/app"))
        #expect(try ResolvedUser.resolve("1000", passwd: passwd, group: group)
                == ResolvedUser(uid: 1000, gid: 1000, additionalGids: [50, 29], home: "/home/app"))
        #expect(try ResolvedUser.resolve("4242", passwd: passwd, group: group) == ResolvedUser(uid: 4242, gid: 0, home: "/"))
        #expect(try ResolvedUser.resolve("app:staff", passwd: passwd, group: group)
                == ResolvedUser(uid: 1000, gid: 50, home: "/home/app"))
        #expect(try ResolvedUser.resolve("svc:7", passwd: passwd, group: group) == ResolvedUser(uid: 999, gid: 7, home: "/srv"))
        #expect(try ResolvedUser.resolve("5:6", passwd: nil, group: nil) == ResolvedUser(uid: 5, gid: 6, home: "/"))
    }

    @Test func unknownNamesAreClearErrors() {
        #expect(throws: RuntimeError.self) { try ResolvedUser.resolve("nobody", passwd: passwd, group: group) }
        #expect(throws: RuntimeError.self) { try ResolvedUser.resolve("app:wheel", passwd: passwd, group: group) }
        do {
            _ = try ResolvedUser.resolve("ghost", passwd: nil, group: nil)
        } catch {
            #expect("\(error)" == "unable to find user ghost: the image has no /etc/passwd")
        }
    }

    @Test func shellFormUsesShell() {
        #expect(RunSpec.shellForm("echo hi") == ["/bin/sh", "-c", "echo hi"])
        #expect(RunSpec.shellForm("echo hi", shell: ["/bin/bash", "-eo", "pipefail", "-c"]) == ["/bin/bash", "-eo", "pipefail", "-c", "echo hi"])
    }
}

@Suite("RuntimeStale")
struct RuntimeStaleTests {
    @Test(.requires(.root, .runc))
    func leftoversOfDeadProcessesAreRemoved() throws {
        let scratch = try RuntimeFixture.scratch()
        defer { try? FileSystem.removeTree(scratch) }
        // A pid that no longer runs: a child that has exited and been reaped.
        let child = try ChildProcess.spawn(["/bin/true"], output: .null)
        _ = child.wait()
        let dead = scratch + "/snap-\(child.pid)-abcdef"
        for dir in ["", "/upper", "/work", "/merged", "/lower"] { try FileSystem.makeDirectories(dead + dir) }
        try FileIO.writeFile(Array(("x").utf8), to: dead + "/lower/f")
        #expect(mount("overlay", dead + "/merged", "overlay", 0,
                      "lowerdir=\(dead)/lower,upperdir=\(dead)/upper,workdir=\(dead)/work,index=off") == 0)
        // A live snapshot of this process must survive.
        let live = try OverlaySnapshot(lowerDirs: [], in: scratch)
        defer { live.remove() }
        try live.mount()

        let executor = try RuntimeFixture.executor(scratch: scratch)
        #expect(executor.removeStale() == 1)
        #expect(access(dead, F_OK) != 0)
        #expect(RuntimeFixture.overlayMounts(under: scratch) == [live.mergedDir])
        #expect(live.isMounted)
    }
}
