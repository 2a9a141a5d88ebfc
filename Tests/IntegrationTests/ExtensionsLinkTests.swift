import Foundation
import Testing
import TestSupport

/// `COPY --link` / `ADD --link` end to end with busybox: the layer is made in an empty root,
/// keyed without its parent, reused across bases and earlier edits, and gives the same tree as
/// a plain COPY in ordinary cases.
@Suite("Extensions: COPY --link", .serialized, .requires(BuildHarness.requirements))
struct ExtensionsLinkTests {
    /// Digests of an image's layers, from `slipway inspect`.
    static func layers(_ s: BuildSandbox, _ image: String) async throws -> [String] {
        let r = try await s.slipway(["inspect", image])
        guard r.status == 0, let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]],
              let layers = json.first?["Layers"] as? [[String: Any]] else {
            throw HarnessError.failed("inspect \(image): \(r.combined)")
        }
        return layers.compactMap { $0["Digest"] as? String }
    }

    /// Whether the plain-progress step whose name contains `name` was taken from the cache.
    static func cached(_ r: BuildHarness.Result, _ name: String) -> Bool {
        let lines = r.stderr.split(separator: "\n").map(String.init)
        guard let line = lines.first(where: { $0.hasPrefix("#") && $0.contains(name) }),
              let id = line.split(separator: " ").first else { return false }
        return lines.contains("\(id) CACHED")
    }

    func sandbox() async throws -> BuildSandbox {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("hello.txt", "hello\n")
        try s.write("dir/a.txt", "a\n")
        try s.write("dir/b.log", "b\n")
        return s
    }

    @Test("the same COPY --link on two bases gives one layer: cached across bases, and byte-identical when rebuilt")
    func acrossBases() async throws {
        let s = try await sandbox()
        try s.write("Dockerfile", "FROM busybox:latest\nRUN echo two > /base2.txt\n")
        let b2 = try await s.build(["-t", "base2:latest"])
        #expect(b2.status == 0, "\(b2.combined)")

        func dockerfile(_ base: String) -> String { "FROM \(base)\nCOPY --link hello.txt dir/ /opt/app/\n" }
        try s.write("Dockerfile", dockerfile("busybox:latest"))
        let one = try await s.build(["-t", "app1:latest"])
        #expect(one.status == 0, "\(one.combined)")
        #expect(!Self.cached(one, "COPY --link"), "\(one.stderr)")
        try s.write("Dockerfile", dockerfile("base2:latest"))
        let two = try await s.build(["-t", "app2:latest"])
        #expect(two.status == 0, "\(two.combined)")
        #expect(Self.cached(two, "COPY --link"), "a new base does not invalidate the linked copy: \(two.stderr)")
        let l1 = try await Self.layers(s, "app1:latest"), l2 = try await Self.layers(s, "app2:latest")
        #expect(l1.count + 1 == l2.count, "base2 has one more layer")
        #expect(l1.last == l2.last, "the linked layer is reused as is")

        // Both bases' files and the linked ones are there, through the store's snapshots.
        let run = try await s.slipway(["run", "app2:latest", "cat", "/base2.txt", "/opt/app/hello.txt", "/opt/app/a.txt"])
        #expect(run.status == 0 && run.stdout == "two\nhello\na\n", "\(run.combined)")

        // Without any cache the layer is still byte-identical (SOURCE_DATE_EPOCH fixes the times):
        // nothing of the base is in it.
        let env = ["SOURCE_DATE_EPOCH": "1700000000"]
        var digests: [String] = []
        for (base, tag) in [("busybox:latest", "e1:latest"), ("base2:latest", "e2:latest")] {
            try s.write("Dockerfile", dockerfile(base))
            let r = try await BuildHarness.run([BuildHarness.binary, "build", "--root", s.store, "--progress", "plain", "--no-cache",
                                          "-t", tag, s.context], cwd: s.context, env: env)
            #expect(r.status == 0, "\(r.combined)")
            #expect(!Self.cached(r, "COPY --link"))
            digests.append(try await Self.layers(s, tag).last ?? "")
        }
        #expect(digests[0] == digests[1] && digests[0] != l1.last, "\(digests)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }

    @Test("editing an earlier RUN: the linked copy is CACHED with the same layer, the RUN after it reruns")
    func earlierEdit() async throws {
        let s = try await sandbox()
        func dockerfile(_ v: String) -> String {
            """
            FROM busybox:latest
            RUN echo \(v) > /r.txt
            COPY --link hello.txt /opt/app/
            RUN cat /opt/app/hello.txt /r.txt > /combined.txt
            """
        }
        try s.write("Dockerfile", dockerfile("1"))
        let first = try await s.build(["-t", "edit:1"])
        #expect(first.status == 0, "\(first.combined)")
        try s.write("Dockerfile", dockerfile("2"))
        let second = try await s.build(["-t", "edit:2"])
        #expect(second.status == 0, "\(second.combined)")
        #expect(Self.cached(second, "COPY --link hello.txt"), "\(second.stderr)")
        #expect(!Self.cached(second, "RUN cat"), "the step after the linked copy depends on the edit")
        let l1 = try await Self.layers(s, "edit:1"), l2 = try await Self.layers(s, "edit:2")
        #expect(l1.count == l2.count && l1.count >= 3)
        #expect(l1[l1.count - 2] == l2[l2.count - 2], "the linked layer is unchanged")
        #expect(l1[l1.count - 3] != l2[l2.count - 3], "the edited RUN's layer changed")
        let run = try await s.slipway(["run", "edit:2", "cat", "/combined.txt"])
        #expect(run.stdout == "hello\n2\n", "\(run.combined)")
    }

    /// Every entry below `root`: type, mode, owner and content (not times).
    static func tree(_ root: String) -> [String: String] {
        var out: [String: String] = [:]
        for rel in (FileManager.default.subpaths(atPath: root) ?? []) {
            var st = stat()
            guard lstat(root + "/" + rel, &st) == 0 else { continue }
            var desc = String(st.st_mode, radix: 8) + " \(st.st_uid):\(st.st_gid)"
            switch st.st_mode & S_IFMT {
            case S_IFREG: desc += " " + ((try? String(contentsOfFile: root + "/" + rel, encoding: .utf8)) ?? "<binary \(st.st_size)>")
            case S_IFLNK: desc += " -> " + ((try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/" + rel)) ?? "?")
            default: break
            }
            out[rel] = desc
        }
        return out
    }

    @Test("with and without --link the trees match: context, WORKDIR, --from stage and image, --chown, --exclude, --parents, heredoc, ADD archive")
    func sameTree() async throws {
        let s = try await sandbox()
        try s.write("src/a/one.txt", "one\n")
        try s.write("src/b/two.txt", "two\n")
        try s.write("payload/inner/p.txt", "payload\n")
        let tar = try await BuildHarness.run(["/bin/tar", "-cf", s.context + "/arch.tar", "-C", s.context + "/payload", "inner"])
        #expect(tar.status == 0, "\(tar.combined)")
        func dockerfile(_ flag: String) -> String {
            """
            # syntax=docker/dockerfile:1.7-labs
            FROM busybox:latest AS build
            RUN mkdir -p /out/sub && echo built > /out/sub/b.txt && chown -R 1000:1000 /out && chmod 0700 /out/sub

            FROM busybox:latest
            RUN mkdir /real && ln -s /real /data
            WORKDIR /srv/www
            COPY \(flag)hello.txt ./
            COPY \(flag)hello.txt /usr/local/bin/
            COPY \(flag)--from=build /out/ /from-stage/
            COPY \(flag)--from=busybox:latest /etc/passwd /from-image/passwd
            COPY \(flag)--chown=1000:1000 dir/ /opt/owned/
            COPY \(flag)--exclude=*.log dir/ /opt/excl/
            COPY \(flag)--parents src/a/one.txt src/b/two.txt /tree/
            COPY \(flag)<<EOF /etc/motd.d/hello
            hi
            EOF
            ADD \(flag)arch.tar /opt/unpacked/
            COPY \(flag)hello.txt /data/
            """
        }
        var trees: [[String: String]] = []
        for (flag, name) in [("", "plain"), ("--link ", "link")] {
            try s.write("Dockerfile", dockerfile(flag))
            let out = s.root + "/" + name
            let r = try await s.build(["--output", "type=local,dest=\(out)"])
            #expect(r.status == 0, "\(r.combined)")
            trees.append(Self.tree(out))
        }
        var (plain, link) = (trees[0], trees[1])
        #expect(link["opt/unpacked/inner/p.txt"]?.hasSuffix("payload\n") == true, "\(link.keys.sorted().filter { $0.hasPrefix("opt") })")
        #expect(link["opt/owned/a.txt"]?.contains(" 1000:1000 ") == true)
        #expect(link["from-stage/sub"]?.hasPrefix("40700 1000:1000") == true, "\(link["from-stage/sub"] ?? "nil")")
        #expect(link["opt/excl/b.log"] == nil && link["opt/excl/a.txt"] != nil)
        #expect(link["srv/www/hello.txt"] != nil && link["tree/src/b/two.txt"] != nil && link["etc/motd.d/hello"] != nil)

        // The one documented difference: --link cannot see the parent's /data symlink, so its
        // layer holds a real /data directory that replaces the link (BuildKit: "the destination
        // path created with --link will always be a path containing only directories").
        #expect(plain["data"]?.contains("-> /real") == true && plain["real/hello.txt"] != nil)
        #expect(link["data"]?.hasPrefix("40755") == true && link["data/hello.txt"] != nil && link["real/hello.txt"] == nil)
        for k in Array(plain.keys) where k == "data" || k.hasPrefix("data/") || k.hasPrefix("real/") { plain[k] = nil }
        for k in Array(link.keys) where k == "data" || k.hasPrefix("data/") || k.hasPrefix("real/") { link[k] = nil }
        // And each linked layer carries its own parent directories (0755 root, or the --chown
        // owner): /opt, first made by the --chown copy, is last written by the --exclude copy's
        // layer, so it ends up root's, where a plain COPY leaves it as the first copy made it.
        #expect(plain["opt"]?.hasPrefix("40755 1000:1000") == true && link["opt"]?.hasPrefix("40755 0:0") == true)
        (plain["opt"], link["opt"]) = (nil, nil)
        let differing = Set(plain.keys).union(link.keys).filter { plain[$0] != link[$0] }.sorted()
        #expect(differing.isEmpty, "\(differing.map { "\($0): plain \(plain[$0] ?? "-") link \(link[$0] ?? "-")" })")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }

    @Test("--link with a --chown user name fails with one clear line; --chmod builds as a plain COPY")
    func chownAndChmod() async throws {
        let s = try await sandbox()
        try s.write("Dockerfile", "FROM busybox:latest\nCOPY --link --chown=app:app hello.txt /home/app/\n")
        let bad = try await s.build([])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("Dockerfile:2:") && bad.stderr.contains("numeric ids"), "\(bad.stderr)")
        #expect(!bad.stderr.contains("Fatal error"))

        try s.write("Dockerfile", "FROM busybox:latest\nCOPY --link --chown=1000 --chmod=600 hello.txt /home/app/\n")
        let out = s.root + "/chmod"
        let ok = try await s.build(["--output", "type=local,dest=\(out)"])
        #expect(ok.status == 0, "\(ok.combined)")
        let t = Self.tree(out)
        #expect(t["home/app/hello.txt"]?.hasPrefix("100600 1000:1000") == true, "\(t["home/app/hello.txt"] ?? "nil")")
        #expect(t["home"]?.hasPrefix("40755 0:0") == true, "a plain COPY leaves the existing parents alone: \(t["home"] ?? "nil")")
    }

    @Test("ADD --link of a URL: cached across an earlier edit while the remote file is unchanged, rerun when it changes",
          .requires(.python3))
    func addURL() async throws {
        let s = try await sandbox()
        let served = s.root + "/srv"
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        try "remote v1\n".write(toFile: served + "/r.txt", atomically: true, encoding: .utf8)
        let port = 40000 + Int(getpid() % 20000)
        let server = try await ExtensionsAddTests.serve(served, port: port, probe: "r.txt")
        defer { ExtensionsAddTests.stop(server) }
        func dockerfile(_ v: String) -> String {
            "FROM busybox:latest\nRUN echo \(v) > /v.txt\nADD --link http://127.0.0.1:\(port)/r.txt /dl/\n"
        }
        try s.write("Dockerfile", dockerfile("1"))
        let first = try await s.build(["-t", "url:1"])
        #expect(first.status == 0, "\(first.combined)")
        try s.write("Dockerfile", dockerfile("2"))
        let second = try await s.build(["-t", "url:2"])
        #expect(second.status == 0 && Self.cached(second, "ADD --link"), "\(second.combined)")
        #expect(try await Self.layers(s, "url:1").last == Self.layers(s, "url:2").last)
        try "remote v2\n".write(toFile: served + "/r.txt", atomically: true, encoding: .utf8)
        let third = try await s.build(["-t", "url:3"])
        #expect(third.status == 0 && !Self.cached(third, "ADD --link"), "\(third.combined)")
        let run = try await s.slipway(["run", "url:3", "cat", "/dl/r.txt", "/v.txt"])
        #expect(run.stdout == "remote v2\n2\n", "\(run.combined)")
    }
}
