import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Every file output (`save -o`, `cache export -o`, `build --output dest=`, `--iidfile`) follows
/// one rule (`OutputFile`): `-` is stdout (never a terminal), devices, FIFOs and symlinks are
/// written through, regular files are replaced atomically. Device nodes are made with mknod in
/// the test's own directory, never the real /dev/null.
@Suite("Outputs write through: devices, symlinks, FIFOs, stdout", .serialized,
       .requires(BuildHarness.requirements + TestRegistry.prerequisites + [.script, .skopeo]))
struct OutputWriteThroughTests {
    /// /dev/null's device number, 1:3 (glibc's makedev for small numbers: major << 8 | minor).
    static let devNull: dev_t = 1 << 8 | 3

    static func fileType(_ path: String) -> mode_t {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : 0
    }

    static func sh(_ s: BuildSandbox, _ command: String) async throws -> BuildHarness.Result {
        try await BuildHarness.run(["/bin/sh", "-c", command], cwd: s.root)
    }

    func sandbox() async throws -> BuildSandbox {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "bb:1")
        return s
    }

    @Test("save: device, symlink, FIFO and stdout are written through; a regular file is replaced atomically; a terminal is refused")
    func saveTargets() async throws {
        let s = try await sandbox()
        let bin = BuildHarness.binary
        // The reference archive, through a shell redirection (no -o: stdout).
        let plain = try await Self.sh(s, "\(bin) save bb:1 --root \(s.store) > \(s.root)/plain.tar")
        #expect(plain.status == 0, "\(plain.combined)")
        let reference = try #require(FileManager.default.contents(atPath: s.root + "/plain.tar"))
        #expect(reference.count > 100_000)
        let dash = try await Self.sh(s, "\(bin) save -o - bb:1 --root \(s.store) > \(s.root)/dash.tar")
        #expect(dash.status == 0 && FileManager.default.contents(atPath: s.root + "/dash.tar") == reference, "\(dash.combined)")

        // A character device (/dev/null's numbers) stays a device.
        #expect(mknod(s.root + "/null", S_IFCHR | 0o666, Self.devNull) == 0)
        let dev = try await s.slipway(["save", "-o", s.root + "/null", "bb:1"])
        #expect(dev.status == 0, "\(dev.combined)")
        #expect(Self.fileType(s.root + "/null") == S_IFCHR)

        // A symlink (dangling at first) stays a symlink; its target gets the archive.
        #expect(symlink("real.tar", s.root + "/link.tar") == 0)
        let link = try await s.slipway(["save", "-o", s.root + "/link.tar", "bb:1"])
        #expect(link.status == 0, "\(link.combined)")
        #expect(Self.fileType(s.root + "/link.tar") == S_IFLNK)
        #expect(FileManager.default.contents(atPath: s.root + "/real.tar") == reference)

        // A FIFO stays a FIFO; the reader gets the archive.
        #expect(mkfifo(s.root + "/fifo", 0o600) == 0)
        let fifo = try await Self.sh(s, "cat fifo > from-fifo.tar & \(bin) save -o fifo bb:1 --root \(s.store); status=$?; wait; exit $status")
        #expect(fifo.status == 0, "\(fifo.combined)")
        #expect(Self.fileType(s.root + "/fifo") == S_IFIFO)
        #expect(FileManager.default.contents(atPath: s.root + "/from-fifo.tar") == reference)

        // A regular file is replaced, keeping its mode, with no temp file left beside it.
        _ = FileManager.default.createFile(atPath: s.root + "/old.tar", contents: Data("old".utf8), attributes: [.posixPermissions: 0o600])
        let reg = try await s.slipway(["save", "-o", s.root + "/old.tar", "bb:1"])
        #expect(reg.status == 0, "\(reg.combined)")
        #expect(FileManager.default.contents(atPath: s.root + "/old.tar") == reference)
        let attributes = try FileManager.default.attributesOfItem(atPath: s.root + "/old.tar")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let names = try FileManager.default.contentsOfDirectory(atPath: s.root)
        #expect(!names.contains { $0.hasSuffix(".slipway-tmp") }, "\(names)")

        // A directory is an error naming it; a terminal is refused before anything is written.
        let dir = try await s.slipway(["save", "-o", s.context, "bb:1"])
        #expect(dir.status != 0 && dir.stderr.contains("is a directory"), "\(dir.combined)")
        let tty = try await BuildHarness.run(["/usr/bin/script", "-qec", "\(bin) save bb:1 --root \(s.store)", "/dev/null"])
        #expect(tty.status != 0 && tty.stdout.contains("refusing to write an archive to a terminal"), "\(tty.combined)")
        #expect(tty.stdout.count < 1000, "no archive bytes on the terminal")

        // load reads standard input without -i (`docker load < x.tar`), and refuses a terminal.
        let other = s.root + "/other-store"
        let load = try await Self.sh(s, "\(bin) load --root \(other) < plain.tar")
        #expect(load.status == 0 && load.stdout.contains("Loaded image: bb:1"), "\(load.combined)")
        let ttyLoad = try await BuildHarness.run(["/usr/bin/script", "-qec", "\(bin) load --root \(other)", "/dev/null"])
        #expect(ttyLoad.status != 0 && ttyLoad.stdout.contains("give -i FILE or redirect standard input"), "\(ttyLoad.combined)")
    }

    @Test("build --output and --iidfile and cache export follow the same rule; an archive on stdout owns it")
    func buildAndCacheOutputs() async throws {
        let s = try await sandbox()
        let bin = BuildHarness.binary
        try s.write("Dockerfile", "FROM bb:1\nRUN --mount=type=cache,target=/c echo hi > /c/f && echo built > /out.txt\n")
        // `-o -`: a tar of the root filesystem on stdout, and nothing else there (the result line goes to stderr).
        let tar = try await Self.sh(s, "\(bin) build --progress plain -o - --root \(s.store) \(s.context) > rootfs.tar")
        #expect(tar.status == 0, "\(tar.combined)")
        #expect(tar.stderr.contains("Built "), "\(tar.stderr.suffix(300))")
        let listing = try await Self.sh(s, "tar -tf rootfs.tar")
        #expect(listing.status == 0 && listing.stdout.contains("out.txt"), "\(listing.combined.prefix(500))")
        let archive = try #require(FileManager.default.contents(atPath: s.root + "/rootfs.tar"))
        #expect(archive.range(of: Data("Built sha256:".utf8)) == nil)

        // type=oci to a device node and to a symlink; --iidfile through a symlink.
        #expect(mknod(s.root + "/null", S_IFCHR | 0o666, Self.devNull) == 0)
        let dev = try await s.build(["-o", "type=oci,dest=\(s.root)/null", "-t", "out:1"])
        #expect(dev.status == 0, "\(dev.combined)")
        #expect(Self.fileType(s.root + "/null") == S_IFCHR)
        #expect(symlink("image.tar", s.root + "/image-link.tar") == 0 && symlink("id.txt", s.root + "/id-link") == 0)
        let viaLink = try await s.build(["-o", "type=docker,dest=\(s.root)/image-link.tar", "-t", "out:1", "--iidfile", s.root + "/id-link"])
        #expect(viaLink.status == 0, "\(viaLink.combined)")
        #expect(Self.fileType(s.root + "/image-link.tar") == S_IFLNK && Self.fileType(s.root + "/id-link") == S_IFLNK)
        let id = (try? String(contentsOfFile: s.root + "/id.txt", encoding: .utf8)) ?? ""
        #expect(id.hasPrefix("sha256:") && id.count == 71, "\(id)")
        let inspect = try await BuildHarness.run(["/usr/bin/skopeo", "inspect", "--config", "docker-archive:\(s.root)/image.tar"])
        #expect(inspect.status == 0, "\(inspect.combined)")

        // type=local to stdout is an error, and no directory named "-" appears.
        let local = try await s.build(["-o", "type=local,dest=-"])
        #expect(local.status != 0 && local.stderr.contains("type=tar,dest=-"), "\(local.combined)")
        #expect(!FileManager.default.fileExists(atPath: s.context + "/-"))
        #expect(!FileManager.default.fileExists(atPath: s.root + "/-"))

        // cache export: to stdout (the summary goes to stderr) and to a device.
        let export = try await Self.sh(s, "\(bin) cache export -o - --root \(s.store) > caches.tar && tar -tf caches.tar")
        #expect(export.status == 0 && export.stdout.contains("/data/f"), "\(export.combined)")
        #expect(export.stderr.contains("Exported 1 cache mount(s) to standard output"), "\(export.stderr)")
        let exportDev = try await s.slipway(["cache", "export", "-o", s.root + "/null"])
        #expect(exportDev.status == 0 && Self.fileType(s.root + "/null") == S_IFCHR, "\(exportDev.combined)")
    }

    @Test("a corrupt layer blob fails save, --output, push, run and build naming the image and layer; fsck --repair --dry-run lists the tags")
    func corruptBlobOnTheWayOut() async throws {
        let s = try await sandbox()
        let layers = try await s.slipway(["inspect", "bb:1"])
        let layer = try #require(layers.stdout.range(of: #""Digest" : "sha256:[0-9a-f]{64}""#, options: .regularExpression)
            .map { String(layers.stdout[$0].dropFirst(#""Digest" : "sha256:"#.count).dropLast()) })
        #expect(try await s.slipway(["tag", "bb:1", "bb:other"]).status == 0)
        // A working build first, so that an --output of the corrupt image can be tried later.
        try s.write("Dockerfile", "FROM bb:1\nLABEL x=1\n")
        #expect(try await s.build(["-t", "derived:1"]).status == 0)
        let blob = s.store + "/blobs/sha256/" + layer
        chmod(blob, 0o644)
        let fd = open(blob, O_RDWR)
        #expect(fd >= 0)
        var byte: UInt8 = 0
        _ = pread(fd, &byte, 1, 300_000)
        byte ^= 0xFF
        _ = pwrite(fd, &byte, 1, 300_000)
        close(fd)

        _ = FileManager.default.createFile(atPath: s.root + "/keep.tar", contents: Data("keep".utf8))
        for format in ["oci", "docker"] {
            let save = try await s.slipway(["save", "--format", format, "-o", s.root + "/keep.tar", "bb:1"])
            #expect(save.status != 0, "\(save.combined)")
            #expect(save.stderr.contains("layer 1 of 1 of image bb:1") && save.stderr.contains("sha256:" + layer)
                    && save.stderr.contains("slipway fsck"), "\(save.stderr)")
        }
        #expect(FileManager.default.contents(atPath: s.root + "/keep.tar") == Data("keep".utf8), "a failed save leaves the old file")
        let out = try await s.build(["-t", "derived:1", "-o", "type=oci,dest=\(s.root)/keep.tar"])
        #expect(out.status != 0 && out.stderr.contains("corrupt") && out.stderr.contains("slipway fsck"), "\(out.combined)")
        #expect(FileManager.default.contents(atPath: s.root + "/keep.tar") == Data("keep".utf8))

        // Push: the registry never completes the corrupt blob.
        let registry = try await TestRegistry()
        let push = try await s.slipway(["push", "bb:1", "\(registry.host)/bb:1"])
        #expect(push.status != 0 && push.stderr.contains("layer 1 of 1 of image bb:1") && push.stderr.contains("slipway fsck"), "\(push.combined)")
        let head = try await BuildHarness.run(["/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-I",
                                               "http://\(registry.host)/v2/bb/blobs/sha256:\(layer)"])
        #expect(head.stdout == "404", "\(head.combined)")

        // Unpacking (no snapshot yet) for run and build names the blob and fsck.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: s.store + "/snapshots")) ?? [] {
            try? FileManager.default.removeItem(atPath: s.store + "/snapshots/" + name)
        }
        let run = try await s.slipway(["run", "--rm", "bb:1", "true"])
        #expect(run.status != 0 && run.stderr.contains("sha256:" + layer) && run.stderr.contains("is corrupt")
                && run.stderr.contains("slipway fsck"), "\(run.combined)")
        try s.write("Dockerfile", "FROM bb:1\nRUN true\n")
        let build = try await s.build(["--no-cache"])
        #expect(build.status != 0 && build.stderr.contains("sha256:" + layer) && build.stderr.contains("slipway fsck"), "\(build.combined)")

        // fsck --repair --dry-run names the tags and changes nothing; --repair then removes them.
        let dry = try await s.slipway(["fsck", "--repair", "--dry-run"])
        #expect(dry.status != 0, "the store is still damaged: \(dry.combined)")
        let wouldRemove = dry.stdout.split(separator: "\n").first { $0.hasPrefix("tags that --repair would remove: ") }.map(String.init) ?? ""
        #expect(dry.stdout.contains("would remove image"), "\(dry.stdout)")
        #expect(["bb:1", "bb:other", "derived:1"].allSatisfy { wouldRemove.contains($0) }, "\(dry.stdout)")
        #expect(try await s.hasImage("bb:1"))
        #expect(FileManager.default.fileExists(atPath: blob))
        let repair = try await s.slipway(["fsck", "--repair"])
        let removed = repair.stdout.split(separator: "\n").first { $0.hasPrefix("tags removed: ") }.map(String.init) ?? ""
        #expect(repair.status == 0 && ["bb:1", "bb:other", "derived:1"].allSatisfy { removed.contains($0) }, "\(repair.combined)")
        #expect(try await !s.hasImage("bb:1"))
        #expect(try await s.slipway(["fsck"]).status == 0)
    }
}
