import Foundation
import OCI
import Testing
@testable import Build
import TestSupport
import System

@Suite("COPY/ADD: destination rules, ownership, modes, confinement, archives")
struct CopyTests {
    /// A context and an empty target rootfs.
    func setup(_ label: String) -> (TempTree, TempTree) {
        let ctx = TempTree("\(label)-ctx")
        let root = TempTree("\(label)-root")
        return (ctx, root)
    }

    @Test func fileToFileAndFileToDirectory() throws {
        let (c, r) = setup("f2f")
        c.file("a.txt", "hello", mode: 0o640)
        c.touch("a.txt", seconds: 1_500_000_000)
        let ctx = try BuildContext(directory: c.path)
        try Copier.copy(CopySpec(sources: ["a.txt"], destination: "/opt/b.txt"), from: ctx, into: r.path)
        #expect(r.read("opt/b.txt") == "hello")
        try Copier.copy(CopySpec(sources: ["a.txt"], destination: "/dir/"), from: ctx, into: r.path)
        #expect(r.read("dir/a.txt") == "hello")
        let st = try #require(r.stat("dir/a.txt"))
        #expect(st.permissions == 0o640, "mode preserved")
        #expect(st.mtime.tv_sec == 1_500_000_000, "mtime preserved as BuildKit does")
        #expect(st.uid == 0 && st.gid == 0)
        // Parent directories created 0755 and owned by root.
        #expect(r.stat("opt")?.permissions == 0o755)
        #expect(r.stat("dir")?.kind == .directory)
        // An existing directory without trailing slash receives the file under its name.
        try Copier.copy(CopySpec(sources: ["a.txt"], destination: "/dir"), from: ctx, into: r.path)
        #expect(r.read("dir/a.txt") == "hello")
    }

    @Test func directorySourceCopiesItsContents() throws {
        let (c, r) = setup("dir")
        c.file("src/main.go", "package main")
        c.file("src/pkg/util.go", "package pkg")
        c.dir("src/empty", mode: 0o700)
        c.link("src/current", to: "main.go")
        let ctx = try BuildContext(directory: c.path)
        try Copier.copy(CopySpec(sources: ["src"], destination: "/app"), from: ctx, into: r.path)
        #expect(r.read("app/main.go") == "package main")
        #expect(r.read("app/pkg/util.go") == "package pkg")
        #expect(!r.exists("app/src"))
        #expect(r.stat("app/empty")?.permissions == 0o700)
        #expect(r.stat("app/current")?.kind == .symlink, "symlinks are copied as symlinks")
        #expect(try FileSystem.readLink(r.p("app/current")) == "main.go")
        // Copying the whole context with `.` to a relative destination uses WORKDIR.
        try Copier.copy(CopySpec(sources: ["."], destination: ".", workdir: "/work"), from: ctx, into: r.path)
        #expect(r.read("work/src/pkg/util.go") == "package pkg")
    }

    @Test func multipleSourcesNeedADirectory() throws {
        let (c, r) = setup("multi")
        c.file("a.txt", "a"); c.file("b.txt", "b")
        let ctx = try BuildContext(directory: c.path)
        let err = try #require(throws: CopyError.self) {
            try Copier.copy(CopySpec(sources: ["a.txt", "b.txt"], destination: "/out", line: 3), from: ctx, into: r.path)
        }
        #expect(err.description.hasPrefix("Dockerfile:3: COPY failed: when using COPY with more than one source file, the destination must be a directory and end with a /"))
        #expect(throws: CopyError.self) {
            try Copier.copy(CopySpec(sources: ["*.txt"], destination: "/out"), from: ctx, into: r.path)
        }
        try Copier.copy(CopySpec(sources: ["a.txt", "b.txt"], destination: "/out/"), from: ctx, into: r.path)
        #expect(r.read("out/a.txt") == "a" && r.read("out/b.txt") == "b")
        // An empty wildcard copies nothing and creates nothing.
        let report = try Copier.copy(CopySpec(sources: ["*.none"], destination: "/empty/"), from: ctx, into: r.path)
        #expect(report.entries == 0 && !r.exists("empty"))
    }

    func fakeAccounts(_ r: TempTree) {
        r.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n")
        r.file("etc/group", "root:x:0:\nstaff:x:50:\napp:x:1001:\n")
    }

    @Test func chownNamesAreLookedUpInTheDestination() throws {
        let (c, r) = setup("chown")
        c.file("a.txt", "a")
        fakeAccounts(r)
        let ctx = try BuildContext(directory: c.path)
        try Copier.copy(CopySpec(sources: ["a.txt"], destination: "/x/n1", chown: "app:staff"), from: ctx, into: r.path)
        #expect(r.stat("x/n1").map { [$0.uid, $0.gid] } == [1000, 50])
        try Copier.copy(CopySpec(sources: ["a.txt"], destination: "/x/n2", chown: "app"), from: ctx, into: r.path)
        #expect(r.stat("x/n2").map { [$0.uid, $0.gid] } == [1000, 1001], "a lone user name takes its primary group")
        try Copier.copy(CopySpec(sources: ["a.txt"], destination: "/y/n3", chown: "1234"), from: ctx, into: r.path)
        #expect(r.stat("y/n3").map { [$0.uid, $0.gid] } == [1234, 1234])
        #expect(r.stat("y").map { [$0.uid, $0.gid] } == [1234, 1234], "created parents belong to the --chown user")
        try Copier.copy(CopySpec(sources: ["a.txt"], destination: "/x/n4", chown: "root:app"), from: ctx, into: r.path)
        #expect(r.stat("x/n4").map { [$0.uid, $0.gid] } == [0, 1001])
        let err = try #require(throws: CopyError.self) {
            try Copier.copy(CopySpec(sources: ["a.txt"], destination: "/x/n5", chown: "nobody", line: 12), from: ctx, into: r.path)
        }
        #expect(err.kind == .unknownUser(name: "nobody"))
        #expect(err.description.hasPrefix("Dockerfile:12: COPY failed: unable to find user nobody"))
        #expect(throws: CopyError.self) {
            try Copier.copy(CopySpec(sources: ["a.txt"], destination: "/x/n6", chown: "app:wheel"), from: ctx, into: r.path)
        }
        #expect(throws: CopyError.self) {
            try Copier.copy(CopySpec(sources: ["a.txt"], destination: "/x/n7", chown: ":staff"), from: ctx, into: r.path)
        }
    }

    @Test func chownDoesNotReadTheHostsPasswdThroughASymlink() throws {
        let (c, r) = setup("chown-link")
        c.file("a.txt", "a")
        // /etc/passwd in the rootfs points at an absolute path: it must resolve inside the rootfs.
        r.file("real/passwd", "svc:x:777:777::/:/bin/sh\n")
        r.link("etc/passwd", to: "/real/passwd")
        let ctx = try BuildContext(directory: c.path)
        try Copier.copy(CopySpec(sources: ["a.txt"], destination: "/f", chown: "svc"), from: ctx, into: r.path)
        #expect(r.stat("f")?.uid == 777)
    }

    @Test("--chmod octal and symbolic", arguments: [
        ("0700", 0o644, false, 0o700), ("755", 0o600, false, 0o755), ("+x", 0o644, false, 0o755),
        ("u=rwX,go=rX", 0o600, false, 0o644), ("u=rwX,go=rX", 0o700, false, 0o755),
        ("u=rwX,go=rX", 0o700, true, 0o755), ("g=u", 0o640, false, 0o660), ("o-r", 0o644, false, 0o640),
        ("a=r", 0o777, false, 0o444), ("u+s", 0o755, false, 0o4755),
    ])
    func chmodSpecs(_ spec: String, _ from: Int, _ isDir: Bool, _ expected: Int) throws {
        #expect(try ChmodSpec(parsing: spec).apply(to: UInt32(from), isDirectory: isDir) == UInt32(expected))
    }

    @Test func chmodAppliesToCopiedFilesAndInvalidValuesFail() throws {
        let (c, r) = setup("chmod")
        c.file("bin/run.sh", "#!/bin/sh", mode: 0o644)
        c.file("bin/data", "d", mode: 0o600)
        let ctx = try BuildContext(directory: c.path)
        try Copier.copy(CopySpec(sources: ["bin/run.sh"], destination: "/o/", chmod: "0750"), from: ctx, into: r.path)
        #expect(r.stat("o/run.sh")?.permissions == 0o750)
        try Copier.copy(CopySpec(sources: ["bin"], destination: "/s/", chmod: "u=rwX,go=rX"), from: ctx, into: r.path)
        #expect(r.stat("s/data")?.permissions == 0o644)
        #expect(r.stat("s/run.sh")?.permissions == 0o644)
        for bad in ["8", "17777", "u+q", "x"] {
            let err = try #require(throws: CopyError.self) {
                try Copier.copy(CopySpec(sources: ["bin"], destination: "/z/", chmod: bad, line: 2), from: ctx, into: r.path)
            }
            #expect(err.kind == .invalidChmod(bad))
        }
    }

    @Test func writesNeverFollowDestinationSymlinksOutOfTheRoot() throws {
        let (c, r) = setup("dest-esc")
        let host = TempTree("host-victim")
        c.file("a.txt", "payload")
        c.file("tree/inner/x.txt", "x")
        // /out in the rootfs is an absolute symlink to a host directory path.
        r.link("out", to: host.path)
        // /app/inner is a symlink to the host directory; /app/a.txt to a host file.
        r.dir("app")
        r.link("app/inner", to: host.path)
        host.file("keep.txt", "original")
        r.link("app/a.txt", to: host.p("keep.txt"))
        let ctx = try BuildContext(directory: c.path)
        try Copier.copy(CopySpec(sources: ["a.txt"], destination: "/out/"), from: ctx, into: r.path)
        // Landed inside the rootfs, at the chrooted meaning of the link.
        #expect(r.read(String(host.path.dropFirst()) + "/a.txt") == "payload")
        #expect(!host.exists("a.txt"))
        // Replacing a symlinked file replaces the link, the host file is untouched.
        try Copier.copy(CopySpec(sources: ["a.txt"], destination: "/app/"), from: ctx, into: r.path)
        #expect(r.stat("app/a.txt")?.kind == .regular)
        #expect(host.read("keep.txt") == "original")
        // A directory cannot be merged through a symlinked subdirectory.
        let err = try #require(throws: CopyError.self) {
            try Copier.copy(CopySpec(sources: ["tree"], destination: "/app/"), from: ctx, into: r.path)
        }
        #expect(err.description.contains("cannot copy to non-directory: /app/inner"))
        #expect(!host.exists("x.txt"))
    }

    @Test func hardlinksExcludeAndParents() throws {
        let (c, r) = setup("misc")
        c.file("d/one", "1")
        link(c.p("d/one"), c.p("d/two"))
        c.file("d/skip.log", "log")
        c.file("d/sub/keep.txt", "k")
        c.file("x/y/a.txt", "a"); c.file("x/y/b.txt", "b"); c.file("x/z/c.md", "c")
        let ctx = try BuildContext(directory: c.path)
        try Copier.copy(CopySpec(sources: ["d"], destination: "/h/", excludes: ["*.log"]), from: ctx, into: r.path)
        let one = try #require(r.stat("h/one")), two = try #require(r.stat("h/two"))
        #expect(one.inode == two.inode, "hard links stay hard links")
        #expect(!r.exists("h/skip.log"))
        #expect(r.read("h/sub/keep.txt") == "k")
        try Copier.copy(CopySpec(sources: ["x/y/*.txt", "x/z/c.md"], destination: "/p/", parents: true), from: ctx, into: r.path)
        #expect(r.read("p/x/y/a.txt") == "a" && r.read("p/x/y/b.txt") == "b" && r.read("p/x/z/c.md") == "c")
        try Copier.copy(CopySpec(sources: ["x/./y/*.txt"], destination: "/q/", parents: true), from: ctx, into: r.path)
        #expect(r.read("q/y/a.txt") == "a")
        #expect(!r.exists("q/x"))
    }

    @Test func copyFromStageKeepsOwnership() throws {
        let s = TempTree("stage-src")
        let r = TempTree("stage-dst")
        s.file("app/bin", "ELF", mode: 0o755)
        lchown(s.p("app/bin"), 1000, 1000)
        s.link("usr/local/bin/app", to: "/app/bin")
        let stage = try BuildContext(stageRootfs: s.path)
        try Copier.copy(CopySpec(sources: ["/usr/local/bin/app"], destination: "/usr/bin/app"), from: stage, into: r.path)
        let st = try #require(r.stat("usr/bin/app"))
        #expect(st.kind == .regular && st.uid == 1000 && st.permissions == 0o755)
        #expect(r.read("usr/bin/app") == "ELF")
        let err = try #require(throws: CopyError.self) {
            try Copier.copy(CopySpec(sources: ["/nope"], destination: "/x", line: 20), from: stage, into: r.path)
        }
        #expect(err.description == "Dockerfile:20: COPY failed: file not found: stat /nope: file does not exist")
    }

    @Test("ADD unpacks local archives", arguments: ["", "z", "j", "J", "--zstd"])
    func addUnpacksArchives(_ flag: String) async throws {
        let (c, r) = setup("add")
        let src = TempTree("add-src")
        src.file("pkg/bin/tool", "tool", mode: 0o755)
        src.file("pkg/README", "readme")
        let opt = flag.isEmpty ? "" : (flag.hasPrefix("-") ? flag : "-\(flag)")
        #expect(await sh("tar -C \(src.path) \(opt) -cf \(c.p("bundle.tar.x")) pkg") == 0)
        let ctx = try BuildContext(directory: c.path)
        // Unpacking runs `tar` and waits for it: off the cooperative pool.
        let into = r.path
        let report = try await runOffPool { try Copier.copy(CopySpec(sources: ["bundle.tar.x"], destination: "/opt", isAdd: true), from: ctx, into: into) }
        #expect(report.archivesUnpacked == 1)
        #expect(r.read("opt/pkg/bin/tool") == "tool")
        #expect(r.stat("opt/pkg/bin/tool")?.permissions == 0o755)
        #expect(r.read("opt/pkg/README") == "readme")
        // COPY never unpacks, and ADD --unpack=false neither.
        try Copier.copy(CopySpec(sources: ["bundle.tar.x"], destination: "/raw/"), from: ctx, into: r.path)
        #expect(r.stat("raw/bundle.tar.x")?.kind == .regular)
        try Copier.copy(CopySpec(sources: ["bundle.tar.x"], destination: "/raw2/", isAdd: true, unpack: false), from: ctx, into: r.path)
        #expect(r.stat("raw2/bundle.tar.x")?.kind == .regular)
    }

    @Test func addNonArchiveIsCopiedAndArchivesCannotEscape() async throws {
        let (c, r) = setup("add2")
        c.file("fake.tar.gz", "not really")
        // An archive holding a symlink to / and a file written through it.
        let evil = TempTree("evil")
        evil.link("escape", to: "/")
        #expect(await sh("cd \(evil.path) && tar -cf \(c.p("evil.tar")) escape && mkdir -p x && echo pwned > x/slipway-pwned && tar --transform 's,^x,escape,' -rf \(c.p("evil.tar")) x/slipway-pwned") == 0)
        let ctx = try BuildContext(directory: c.path)
        let into = r.path
        _ = try await runOffPool { try Copier.copy(CopySpec(sources: ["fake.tar.gz"], destination: "/d/", isAdd: true), from: ctx, into: into) }
        #expect(r.read("d/fake.tar.gz") == "not really")
        _ = try? await runOffPool { try Copier.copy(CopySpec(sources: ["evil.tar"], destination: "/e/", isAdd: true), from: ctx, into: into) }
        #expect(!FileManager.default.fileExists(atPath: "/slipway-pwned"))
        #expect(!FileManager.default.fileExists(atPath: FileManager.default.temporaryDirectory.path + "/slipway-pwned"))
    }

    @Test("ADD unpacks with the confined applier: a later entry replaces a symlink, truncation and bad headers are errors naming the archive, nothing lands in $TMPDIR")
    func addUsesTheConfinedApplier() async throws {
        let (c, r) = setup("add3")
        // A symlink `bin` -> /etc, then a regular file at `bin`: the file wins (as import/load do).
        let t = TempTree("add3-src")
        t.link("bin", to: "/etc")
        #expect(await sh("cd \(t.path) && tar -cf \(c.p("swap.tar")) bin && rm bin && echo data > bin && tar -rf \(c.p("swap.tar")) bin") == 0)
        // A truncated gzip archive and a tar whose first header checksum is wrong.
        #expect(await sh("mkdir -p \(t.path)/big && head -c 200000 /dev/urandom > \(t.path)/big/file") == 0)
        #expect(await sh("cd \(t.path) && tar -czf \(c.p("whole.tgz")) big && head -c 2000 \(c.p("whole.tgz")) > \(c.p("cut.tgz"))") == 0)
        #expect(await sh("cd \(t.path) && tar -cf \(c.p("bad.tar")) big && printf 'ZZZZZZZZ' | dd of=\(c.p("bad.tar")) bs=1 seek=148 conv=notrunc 2>/dev/null") == 0)
        let ctx = try BuildContext(directory: c.path)
        let into = r.path
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? [])
        _ = try await runOffPool { try Copier.copy(CopySpec(sources: ["swap.tar"], destination: "/s/", isAdd: true), from: ctx, into: into) }
        #expect(r.stat("s/bin")?.kind == .regular && r.read("s/bin") == "data\n")
        let cut = await #expect(throws: CopyError.self) {
            _ = try await runOffPool { try Copier.copy(CopySpec(sources: ["cut.tgz"], destination: "/c/", isAdd: true, line: 7), from: ctx, into: into) }
        }
        #expect(cut?.description.contains("Dockerfile:7:") == true && cut?.description.contains("cut.tgz") == true, "\(String(describing: cut))")
        // Not an archive by content (bad header checksum): copied as a file, as BuildKit does.
        _ = try await runOffPool { try Copier.copy(CopySpec(sources: ["bad.tar"], destination: "/b/", isAdd: true), from: ctx, into: into) }
        #expect(r.stat("b/bad.tar")?.kind == .regular)
        let after = Set((try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? [])
        #expect(after.subtracting(before).filter { $0.hasPrefix("slipway-add") }.isEmpty, "nothing unpacked into $TMPDIR")
    }

    @Test func heredocsAreWrittenWithModeAndOwner() throws {
        let r = TempTree("heredoc")
        fakeAccounts(r)
        try Copier.writeHeredocs([HeredocSource(name: "EOF", content: "hello\n")],
                                 spec: CopySpec(sources: [], destination: "/etc/motd"), into: r.path)
        #expect(r.read("etc/motd") == "hello\n")
        #expect(r.stat("etc/motd")?.permissions == 0o644)
        try Copier.writeHeredocs([HeredocSource(name: "run.sh", content: "#!/bin/sh\n"), HeredocSource(name: "b", content: "b")],
                                 spec: CopySpec(sources: [], destination: "/scripts/", chown: "app", chmod: "755"), into: r.path)
        #expect(r.stat("scripts/run.sh").map { [$0.permissions, $0.uid] } == [0o755, 1000])
        #expect(r.read("scripts/b") == "b")
    }
}

@Suite("ADD from URL", .serialized)
struct CopyRemoteTests {
    /// Starts `python3 -m http.server` on 127.0.0.1 with an ephemeral port.
    final class Server {
        let process = Process()
        let port: Int
        init?(serving dir: String) async {
            let out = Pipe()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", dir]
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return nil }
            // Reading until python3 is up blocks: do it off the cooperative pool.
            let output = out.fileHandleForReading
            guard let p = await offPool({ Self.announcedPort(output) }) else { return nil }
            port = p
        }

        /// The port from the server's first line: "Serving HTTP on 127.0.0.1 port 41234 (http://…) ...".
        static func announcedPort(_ output: FileHandle) -> Int? {
            var text = ""
            while !text.contains("\n") {
                let d = output.availableData
                if d.isEmpty { return nil }
                text += String(decoding: d, as: UTF8.self)
            }
            guard let r = text.range(of: "port ") else { return nil }
            return Int(text[r.upperBound...].prefix { $0.isNumber })
        }
        deinit {
            // Poll rather than waitUntilExit, which can block forever inside async tests.
            kill(process.processIdentifier, SIGKILL)
            for _ in 0..<200 where process.isRunning { usleep(10_000) }
        }
    }

    @Test(.requires(.python3))
    func checksumMismatchFailsAndMatchPlacesFile() async throws {
        let www = TempTree("www")
        www.file("tool.bin", "binary-content")
        let r = TempTree("url-root")
        let server = try #require(await Server(serving: www.path))
        let url = "http://127.0.0.1:\(server.port)/tool.bin"
        let good = Digest.sha256("binary-content")
        let wrong = Digest.sha256("something else")
        let bad = CopySpec(sources: [url], destination: "/usr/local/bin/", isAdd: true, checksum: wrong.description, line: 5)
        let err = try await #require(throws: CopyError.self) { try await RemoteSource.download(url, spec: bad) }
        #expect(err.kind == .checksumMismatch(url: url, expected: wrong.description, actual: good.description))
        #expect(err.description.hasPrefix("Dockerfile:5: ADD failed: checksum mismatch for \(url)"))
        let spec = CopySpec(sources: [url], destination: "/usr/local/bin/", isAdd: true, checksum: good.description)
        let file = try await RemoteSource.download(url, spec: spec)
        defer { file.discard() }
        #expect(file.digest == good && file.fileName == "tool.bin")
        try Copier.place(file, spec: spec, into: r.path)
        #expect(r.read("usr/local/bin/tool.bin") == "binary-content")
        #expect(r.stat("usr/local/bin/tool.bin")?.permissions == 0o600)
        let missing = CopySpec(sources: [], destination: "/x", isAdd: true, line: 6)
        let e404 = try await #require(throws: CopyError.self) {
            try await RemoteSource.download("http://127.0.0.1:\(server.port)/nope", spec: missing)
        }
        #expect(e404.description.contains("HTTP 404"))
    }
}

@Suite("ADD from URL through perform", .serialized)
struct CopyRemotePerformTests {
    @Test(.requires(.python3))
    func performDownloadsOncePerBuildAndDigestFollowsRemoteContent() async throws {
        let www = TempTree("www2")
        www.file("v.txt", "v1")
        let c = TempTree("perform-ctx")
        c.file("local.txt", "L")
        let r = TempTree("perform-root")
        let server = try #require(await CopyRemoteTests.Server(serving: www.path))
        let url = "http://127.0.0.1:\(server.port)/v.txt"
        let spec = CopySpec(sources: [url, "local.txt"], destination: "/d/", isAdd: true)
        let ctx1 = try BuildContext(directory: c.path)
        let d1 = try await Copier.digest(spec, from: ctx1)
        try await Copier.perform(spec, from: ctx1, into: r.path)
        #expect(r.read("d/v.txt") == "v1" && r.read("d/local.txt") == "L")
        #expect(r.stat("d/v.txt")?.permissions == 0o600)
        // Same content on the next build: same digest; changed remote content: new digest.
        #expect(try await Copier.digest(spec, from: try BuildContext(directory: c.path)) == d1)
        www.file("v.txt", "v2")
        #expect(try await Copier.digest(spec, from: try BuildContext(directory: c.path)) != d1)
        // The synchronous copy refuses URLs rather than skipping them.
        #expect(throws: CopyError.self) { try Copier.copy(spec, from: ctx1, into: r.path) }
        let copyURL = CopySpec(sources: [url], destination: "/d/", line: 3)
        let err = try await #require(throws: CopyError.self) { try await Copier.perform(copyURL, from: ctx1, into: r.path) }
        #expect(err.description == "Dockerfile:3: COPY failed: source can't be a URL for COPY; use ADD")
    }
}

@Suite("COPY --exclude as in BuildKit's exclude tests")
struct CopyExcludeTests {
    @Test func excludeBelowMatchesAndMatchedFiles() throws {
        let c = TempTree("ex-ctx")
        c.file("dir1/file-101.png", "2"); c.file("dir1/file-102.txt", "3")
        c.file("dir3/file-301.mp3", "9"); c.file("dir3/file-302.mpeg", "10")
        c.file("home.txt", "h"); c.file("home.md", "m")
        let ctx = try BuildContext(directory: c.path)
        let r = TempTree("ex-root")
        try Copier.copy(CopySpec(sources: ["dir3/"], destination: "/3/", excludes: ["*.mp3"]), from: ctx, into: r.path)
        #expect(!r.exists("3/file-301.mp3") && r.read("3/file-302.mpeg") == "10")
        try Copier.copy(CopySpec(sources: ["."], destination: "/1", excludes: ["*/*.png"]), from: ctx, into: r.path)
        #expect(!r.exists("1/dir1/file-101.png") && r.exists("1/dir1/file-102.txt"))
        try Copier.copy(CopySpec(sources: ["dir*"], destination: "/6", excludes: ["*"], isAdd: true), from: ctx, into: r.path)
        #expect(r.stat("6")?.kind == .directory)
        #expect(try FileSystem.entries(r.p("6")).isEmpty)
        try Copier.copy(CopySpec(sources: ["hom*"], destination: "/h/", excludes: ["*.txt"]), from: ctx, into: r.path)
        #expect(r.exists("h/home.md") && !r.exists("h/home.txt"))
        // The digest follows the same selection: an excluded file's edit keeps it.
        let spec = CopySpec(sources: ["dir3"], destination: "/3/", excludes: ["*.mp3"])
        let d0 = try Copier.sourceDigest(spec, from: ctx)
        c.file("dir3/file-301.mp3", "changed")
        #expect(try Copier.sourceDigest(spec, from: try BuildContext(directory: c.path)) == d0)
    }
}

@Suite("COPY --parents with ** and flag validation")
struct CopyParentsTests {
    @Test func doubleStarUnderParents() throws {
        let c = TempTree("dstar")
        c.file("src/a.txt", "a"); c.file("src/x/b.txt", "b"); c.file("src/x/y/c.txt", "c"); c.file("src/x/y/d.md", "d")
        let ctx = try BuildContext(directory: c.path)
        let r = TempTree("dstar-root")
        try Copier.copy(CopySpec(sources: ["./src/**/*.txt"], destination: "/parents/", parents: true), from: ctx, into: r.path)
        #expect(r.read("parents/src/a.txt") == "a")
        #expect(r.read("parents/src/x/b.txt") == "b")
        #expect(r.read("parents/src/x/y/c.txt") == "c")
        #expect(!r.exists("parents/src/x/y/d.md"))
        try Copier.copy(CopySpec(sources: ["src/x/**"], destination: "/all/", parents: true), from: ctx, into: r.path)
        #expect(r.read("all/src/x/y/d.md") == "d" && r.read("all/src/x/b.txt") == "b")
        // Parents reached through a symlinked directory are recreated as directories.
        c.link("alias", to: "src")
        try Copier.copy(CopySpec(sources: ["alias/x/b.txt"], destination: "/viaLink/", parents: true), from: ctx, into: r.path)
        #expect(r.read("viaLink/alias/x/b.txt") == "b")
        #expect(r.stat("viaLink/alias")?.kind == .directory)
        // Without --parents, `**` is Go's `*` twice: one segment.
        #expect(try ctx.expand("src/**/*.txt")?.map(\.path) == ["src/x/b.txt"])
    }

    @Test func checksumRules() throws {
        let c = TempTree("cks")
        c.file("a.txt", "a")
        let ctx = try BuildContext(directory: c.path)
        let r = TempTree("cks-root")
        let sum = Digest.sha256("a").description
        for (spec, message) in [
            (CopySpec(sources: ["a.txt"], destination: "/x", checksum: sum, line: 2), "checksum can't be specified for COPY"),
            (CopySpec(sources: ["a.txt"], destination: "/x", isAdd: true, checksum: sum, line: 2), "checksum requires HTTP(S) or Git sources"),
        ] {
            let err = try #require(throws: CopyError.self) { try Copier.copy(spec, from: ctx, into: r.path) }
            #expect(err.description == "Dockerfile:2: \(spec.instructionName) failed: \(message)")
        }
    }
}

@Suite("COPY type conflicts and ADD archive ownership")
struct CopyConflictTests {
    @Test func fileOverDirectoryAndDirectoryOverFileFail() throws {
        let c = TempTree("conf")
        c.file("a.txt", "a")
        c.file("d/x", "x")
        let r = TempTree("conf-root")
        r.dir("app/a.txt")
        r.file("file", "f")
        r.file("merge/x/inner", "old")
        let ctx = try BuildContext(directory: c.path)
        let e1 = try #require(throws: CopyError.self) {
            try Copier.copy(CopySpec(sources: ["d"], destination: "/file", line: 4), from: ctx, into: r.path)
        }
        #expect(e1.description == "Dockerfile:4: COPY failed: cannot copy to non-directory: /file")
        // `COPY a.txt /app/` where /app/a.txt is a directory.
        let e2 = try #require(throws: CopyError.self) {
            try Copier.copy(CopySpec(sources: ["a.txt"], destination: "/app/"), from: ctx, into: r.path)
        }
        #expect(e2.description.contains("cannot replace directory /app/a.txt with a file"))
        // A directory's contents replace a same-named directory's file-by-file only for files.
        let e3 = try #require(throws: CopyError.self) {
            try Copier.copy(CopySpec(sources: ["d"], destination: "/merge/"), from: ctx, into: r.path)
        }
        #expect(e3.description.contains("cannot replace directory /merge/x with a file"))
    }

    @Test func addArchiveWithChown() async throws {
        let c = TempTree("tarown")
        let src = TempTree("tarown-src")
        src.file("etc/app.conf", "conf")
        #expect(await sh("tar -C \(src.path) -czf \(c.p("conf.tgz")) etc") == 0)
        let r = TempTree("tarown-root")
        r.file("etc/passwd", "app:x:1000:1000::/:/bin/sh\n")
        let ctx = try BuildContext(directory: c.path)
        let into = r.path
        _ = try await runOffPool { try Copier.copy(CopySpec(sources: ["conf.tgz"], destination: "/", chown: "app", isAdd: true), from: ctx, into: into) }
        #expect(r.read("etc/app.conf") == "conf")
        #expect(r.stat("etc/app.conf").map { [$0.uid, $0.gid] } == [1000, 1000])
        #expect(r.read("etc/passwd") == "app:x:1000:1000::/:/bin/sh\n", "existing files are kept (tar -x union)")
    }
}

@Suite("ADD from git", .serialized)
struct CopyGitTests {
    @Test(.requires(.git, .python3))
    func addGitRepositoryOverDumbHTTP() async throws {
        let repo = TempTree("gitrepo")
        repo.file("README", "v1")
        repo.file("bin/run.sh", "#!/bin/sh\n", mode: 0o775)
        repo.file("docs/guide.md", "guide", mode: 0o600)
        let git = "git -C \(repo.path) -c user.email=t@t -c user.name=t"
        #expect(await sh("git init -q -b main \(repo.path) && \(git) add -A && \(git) commit -qm one && \(git) tag v1 && echo v2 > \(repo.p("README")) && \(git) commit -qam two && \(git) update-server-info") == 0)
        let server = try #require(await CopyRemoteTests.Server(serving: repo.path))
        let base = "http://127.0.0.1:\(server.port)/.git"
        let c = TempTree("git-ctx")
        let ctx = try BuildContext(directory: c.path)
        let r = TempTree("git-root")

        try await Copier.perform(CopySpec(sources: [base], destination: "/src", isAdd: true), from: ctx, into: r.path)
        #expect(r.read("src/README") == "v2\n")
        #expect(r.stat("src/bin/run.sh")?.permissions == 0o755)
        #expect(r.stat("src/docs/guide.md")?.permissions == 0o644)
        #expect(!r.exists("src/.git"))

        try await Copier.perform(CopySpec(sources: [base + "#v1:docs"], destination: "/docs/", isAdd: true), from: ctx, into: r.path)
        #expect(r.read("docs/guide.md") == "guide" && !r.exists("docs/README"))

        try await Copier.perform(CopySpec(sources: [base + "#v1"], destination: "/kept", isAdd: true, keepGitDir: true), from: ctx, into: r.path)
        #expect(r.read("kept/README") == "v1" && r.exists("kept/.git"))

        // The digest is the commit: v1 and main differ, the same ref twice agrees.
        let d1 = try await Copier.digest(CopySpec(sources: [base + "#v1"], destination: "/x", isAdd: true), from: ctx)
        let d2 = try await Copier.digest(CopySpec(sources: [base], destination: "/x", isAdd: true), from: ctx)
        #expect(d1 != d2)
        #expect(try await Copier.digest(CopySpec(sources: [base + "#v1"], destination: "/x", isAdd: true), from: try BuildContext(directory: c.path)) == d1)

        let bad = CopySpec(sources: [base + "#v1"], destination: "/x", isAdd: true, checksum: "deadbeef", line: 8)
        let err = try await #require(throws: CopyError.self) { try await Copier.perform(bad, from: ctx, into: r.path) }
        #expect(err.description.hasPrefix("Dockerfile:8: ADD failed: checksum mismatch for \(base): expected deadbeef, got "))
        let copyGit = CopySpec(sources: [base], destination: "/x", line: 9)
        let e2 = try await #require(throws: CopyError.self) { try await Copier.perform(copyGit, from: ctx, into: r.path) }
        #expect(e2.description == "Dockerfile:9: COPY failed: source can't be a git ref for COPY; use ADD")
    }

    @Test("git ref parsing", arguments: [
        ("https://github.com/moby/buildkit.git#v0.10.1:docs", "https://github.com/moby/buildkit.git", "v0.10.1", "docs"),
        ("git@github.com:user/repo.git", "git@github.com:user/repo.git", "", ""),
        ("https://example.com/file.tar.gz", "", "", ""),
    ])
    func parse(_ s: String, _ remote: String, _ ref: String, _ subdir: String) {
        let g = GitRef.parse(s)
        #expect(g?.remote ?? "" == remote)
        #expect(g?.ref ?? "" == ref)
        #expect(g?.subdir ?? "" == subdir)
        #expect(RemoteSource.isURL(s) == remote.isEmpty)
    }
}
