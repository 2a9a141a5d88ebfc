import Foundation
import Testing
import TestSupport

/// Every RUN mount type, heredoc forms, --network and --security in one busybox build; the
/// resulting file tree is checked.
@Suite("Extensions: mount types, heredocs, network, security", .serialized, .requires(BuildHarness.requirements))
struct ExtensionsMountsTests {
    static let dockerfile = """
        # syntax=docker/dockerfile:1
        FROM busybox AS tools
        RUN mkdir -p /opt/tools && echo from-stage > /opt/tools/marker

        FROM busybox
        ARG CACHE_ID=demo
        WORKDIR /work
        RUN --mount=type=bind,source=data,target=/mnt/data cat /mnt/data/a.txt > /bind-ctx.txt && (test -e /mnt/data/local.env && echo visible || echo hidden) > /bind-ignored.txt
        RUN --mount=type=bind,from=tools,source=/opt/tools,target=/t cat /t/marker > /bind-stage.txt
        RUN --mount=type=bind,source=data,target=/mnt/rw,rw echo scribble > /mnt/rw/new.txt && cat /mnt/rw/new.txt > /bind-rw.txt
        RUN --mount=type=bind,source=data,target=/mnt/ro (echo x > /mnt/ro/nope.txt 2>/dev/null && echo writable || echo readonly) > /bind-ro.txt
        RUN --mount=type=tmpfs,target=/scratch,size=1m echo tmp > /scratch/x && grep ' /scratch ' /proc/mounts | cut -d' ' -f3 > /tmpfs.txt
        RUN --mount=type=cache,target=cachedir,id=$CACHE_ID,sharing=locked echo run >> cachedir/count && wc -l < cachedir/count > /cache-count.txt
        RUN --mount=type=cache,target=/seeded,from=tools,source=/opt/tools cat /seeded/marker > /cache-seeded.txt
        RUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo ssh-ok > /ssh.txt
        RUN --network=none (ls /sys/class/net | tr '\\n' ' ') > /net-none.txt
        RUN <<EOF
        echo heredoc-shell > /heredoc1.txt
        EOF
        RUN <<EOF
        #!/bin/sh
        echo "shebang $0" > /heredoc2.txt
        EOF
        RUN <<-EOF
        \techo tabs-stripped > /heredoc3.txt
        \tEOF
        COPY <<EOF /etc/greeting
        hello heredoc
        EOF
        COPY <<EOF /etc/expanded
        id "$CACHE_ID" '${CACHE_ID}'
        EOF
        COPY <<"EOF" /etc/verbatim
        id $CACHE_ID
        EOF
        """

    @Test("bind (context, stage, rw, ro), tmpfs, cache (id from ARG, locked, seeded), ssh, network none, heredocs")
    func everyMountType() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("Dockerfile", Self.dockerfile)
        try s.write("data/a.txt", "from-context\n")
        try s.write("data/local.env", "PASSWORD=1\n")
        try s.write(".dockerignore", "data/*.env\n")
        let sock = s.root + "/agent.sock"
        let py = try await BuildHarness.run(["/usr/bin/python3", "-c", "import socket; socket.socket(socket.AF_UNIX).bind('\(sock)')"])
        #expect(py.status == 0, "\(py.combined)")

        let out = s.root + "/rootfs"
        let r = try await s.build(["--ssh", "default=\(sock)", "--output", "type=local,dest=\(out)", "-t", "ext:1"])
        #expect(r.status == 0, "\(r.combined)")
        func file(_ p: String) -> String { (try? String(contentsOfFile: out + p, encoding: .utf8)) ?? "<missing \(p)>" }
        #expect(file("/bind-ctx.txt") == "from-context\n")
        #expect(file("/bind-ignored.txt") == "hidden\n", ".dockerignore applies to context bind mounts")
        #expect(FileManager.default.fileExists(atPath: s.context + "/data/local.env"), "the context itself is untouched")
        #expect(file("/bind-stage.txt") == "from-stage\n")
        #expect(file("/bind-rw.txt") == "scribble\n")
        #expect(!FileManager.default.fileExists(atPath: s.context + "/data/new.txt"), "rw bind changes are discarded")
        #expect(file("/bind-ro.txt") == "readonly\n")
        #expect(file("/tmpfs.txt") == "tmpfs\n")
        #expect(file("/cache-count.txt") == "1\n")
        #expect(file("/cache-seeded.txt") == "from-stage\n")
        #expect(file("/ssh.txt") == "ssh-ok\n")
        #expect(file("/net-none.txt") == "lo ")
        #expect(file("/heredoc1.txt") == "heredoc-shell\n")
        #expect(file("/heredoc2.txt") == "shebang /dev/pipes/EOF\n")
        #expect(file("/heredoc3.txt") == "tabs-stripped\n")
        #expect(file("/etc/greeting") == "hello heredoc\n")
        #expect(file("/etc/expanded") == "id \"demo\" 'demo'\n", "unquoted delimiter: expanded, quotes kept")
        #expect(file("/etc/verbatim") == "id $CACHE_ID\n", "quoted delimiter: verbatim")
        // Mounts' content never reaches the image: as in BuildKit, a target directory the image
        // lacked stays as an empty 0755 directory (the ssh socket's parent too), nothing in it.
        for p in ["/mnt", "/t", "/scratch", "/work/cachedir", "/seeded", "/run/buildkit"] {
            // Only directories (mount points nested below, e.g. /mnt/ro), never a file.
            let entries = FileManager.default.subpaths(atPath: out + p) ?? []
            let files = entries.filter { rel in
                var isDir: ObjCBool = false
                return !FileManager.default.fileExists(atPath: out + p + "/" + rel, isDirectory: &isDir) || !isDir.boolValue
            }
            #expect(files.isEmpty, "\(p) holds mount content in the image: \(files)")
        }
        #expect(!FileManager.default.fileExists(atPath: out + "/dev/pipes"), "heredoc scripts leaked into the image")

        // Cache mounts persist: a rebuild with a different cache-key for that step sees count 2.
        let again = try await s.build(["--ssh", "default=\(sock)", "--no-cache", "--output", "type=local,dest=\(out)2"])
        #expect(again.status == 0, "\(again.combined)")
        #expect((try? String(contentsOfFile: out + "2/cache-count.txt", encoding: .utf8)) == "2\n")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }

    @Test("--security=insecure needs --allow security.insecure; then the step has every capability")
    func insecure() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("Dockerfile", "FROM busybox\nRUN --security=insecure grep CapEff /proc/self/status > /caps\n")
        let denied = try await s.build([])
        #expect(denied.status != 0)
        #expect(denied.stderr.contains("Dockerfile:2") && denied.stderr.contains("--allow security.insecure"), "\(denied.stderr)")
        let out = s.root + "/rootfs"
        let ok = try await s.build(["--allow", "security.insecure", "--output", "type=local,dest=\(out)"])
        #expect(ok.status == 0, "\(ok.combined)")
        let caps = (try? String(contentsOfFile: out + "/caps", encoding: .utf8)) ?? ""
        let mask = caps.split(separator: "\t").last.flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines), radix: 16) } ?? 0
        #expect(mask & (1 << 21) != 0, "CAP_SYS_ADMIN in the insecure step: \(caps)")
    }

    @Test("a missing ssh socket for a required mount, and a bad --ssh flag, are clear errors")
    func sshErrors() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("Dockerfile", "FROM busybox\nRUN --mount=type=ssh,required=true true\n")
        let r = try await s.build([])
        #expect(r.status != 0 && r.stderr.contains("Dockerfile:2") && r.stderr.contains("--ssh"), "\(r.stderr)")
        let bad = try await s.build(["--ssh", "default=/etc/passwd"])
        #expect(bad.status != 0 && bad.stderr.contains("not a socket"), "\(bad.stderr)")
    }
}
