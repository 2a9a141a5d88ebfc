import Foundation
import Testing
import TestSupport

/// ADD from an HTTP URL (a python3 http.server on 127.0.0.1) with and without --checksum.
@Suite("Extensions: ADD from a URL", .serialized, .requires(BuildHarness.requirements + [.python3]))
struct ExtensionsAddTests {
    /// A python3 http.server for `directory` on 127.0.0.1:`port`, once `probe` answers.
    static func serve(_ directory: String, port: Int, probe: String) async throws -> Process {
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = ["-m", "http.server", "\(port)", "--bind", "127.0.0.1", "--directory", directory]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        for _ in 0..<50 {
            if (try? await BuildHarness.run(["/usr/bin/python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:\(port)/\(probe)')"]))?.status == 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return server
    }

    /// SIGKILL (the test process may pass SIGTERM on as ignored), reaped off the pool.
    static func stop(_ server: Process) {
        Fixtures.killInBackground(server)
    }
    @Test("ADD http:// places the file, --checksum is verified, a changed remote file re-runs the step")
    func addURL() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        let served = s.root + "/srv"
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        try "remote v1\n".write(toFile: served + "/r.txt", atomically: true, encoding: .utf8)
        let port = 20000 + Int(getpid() % 20000)
        let server = try await Self.serve(served, port: port, probe: "r.txt")
        defer { Self.stop(server) }
        let sum = try await BuildHarness.run(["/bin/sh", "-c", "sha256sum '\(served)/r.txt' | cut -d' ' -f1"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try s.write("Dockerfile", """
            FROM busybox
            ADD --checksum=sha256:\(sum) http://127.0.0.1:\(port)/r.txt /checked.txt
            ADD http://127.0.0.1:\(port)/r.txt /dir/
            """)
        let out = s.root + "/rootfs"
        let r = try await s.build(["--output", "type=local,dest=\(out)"])
        #expect(r.status == 0, "\(r.combined)")
        #expect((try? String(contentsOfFile: out + "/checked.txt", encoding: .utf8)) == "remote v1\n")
        #expect((try? String(contentsOfFile: out + "/dir/r.txt", encoding: .utf8)) == "remote v1\n")

        // The pinned checksum no longer matches once the file changes: a clear error.
        try "remote v2\n".write(toFile: served + "/r.txt", atomically: true, encoding: .utf8)
        let bad = try await s.build([])
        #expect(bad.status != 0 && bad.stderr.contains("Dockerfile:2") && bad.stderr.lowercased().contains("checksum"), "\(bad.stderr)")

        // Without a checksum the changed content re-runs the step.
        try s.write("Dockerfile", "FROM busybox\nADD http://127.0.0.1:\(port)/r.txt /dir/\n")
        let v2 = try await s.build(["--output", "type=local,dest=\(out)2"])
        #expect(v2.status == 0, "\(v2.combined)")
        #expect((try? String(contentsOfFile: out + "2/dir/r.txt", encoding: .utf8)) == "remote v2\n")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }

    @Test("ADD of a git URL (#ref) through slipway build; a new commit on the ref re-runs the step", .requires(.git))
    func addGit() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        let work = s.root + "/gitwork", served = s.root + "/gitsrv"
        func git(_ args: [String], in dir: String) async throws {
            let r = try await BuildHarness.run(["/usr/bin/git", "-C", dir, "-c", "user.email=t@example.com", "-c", "user.name=t"] + args)
            try #require(r.status == 0, "git \(args): \(r.combined)")
        }
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try await git(["init", "-q", "-b", "main"], in: work)
        try "from git v1\n".write(toFile: work + "/file.txt", atomically: true, encoding: .utf8)
        try await git(["add", "."], in: work)
        try await git(["commit", "-qm", "v1"], in: work)
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        try await git(["clone", "-q", "--bare", work, served + "/repo.git"], in: s.root)
        try await git(["update-server-info"], in: served + "/repo.git")

        // Dumb HTTP from a local server (127.0.0.1 only).
        let port = 20000 + Int((getpid() + 7919) % 20000)
        let server = try await Self.serve(served, port: port, probe: "repo.git/HEAD")
        defer { Self.stop(server) }
        try s.write("Dockerfile", "FROM busybox\nADD http://127.0.0.1:\(port)/repo.git#main /src\nRUN cat /src/file.txt\n")
        let out = s.root + "/rootfs"
        let r = try await s.build(["--output", "type=local,dest=\(out)"])
        #expect(r.status == 0, "\(r.combined)")
        #expect((try? String(contentsOfFile: out + "/src/file.txt", encoding: .utf8)) == "from git v1\n")
        #expect(!FileManager.default.fileExists(atPath: out + "/src/.git"), "no .git without --keep-git-dir")

        // A new commit on the ref changes what ADD brings in.
        try "from git v2\n".write(toFile: work + "/file.txt", atomically: true, encoding: .utf8)
        try await git(["commit", "-qam", "v2"], in: work)
        try await git(["push", "-q", served + "/repo.git", "main"], in: work)
        try await git(["update-server-info"], in: served + "/repo.git")
        let v2 = try await s.build(["--output", "type=local,dest=\(out)2"])
        #expect(v2.status == 0, "\(v2.combined)")
        #expect((try? String(contentsOfFile: out + "2/src/file.txt", encoding: .utf8)) == "from git v2\n")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }
}
