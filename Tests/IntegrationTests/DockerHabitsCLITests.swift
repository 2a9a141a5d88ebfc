import Foundation
import Testing
import TestSupport

/// Docker's command-line habits (issue #17): global options before the command, management
/// aliases, "did you mean", docker's exit statuses, Go templates for --format, filters.
/// Each test imports a tiny root filesystem (no runc, no base image).
@Suite(.requires(.slipwayBinary)) struct DockerHabitsCLITests {
    let bin = Fixtures.slipwayBinary

    /// A store under a fresh scratch directory with `app:1` imported from a one-file rootfs;
    /// returns the directory, the store and the image ID.
    func store(_ label: String, files: [String: String] = ["etc/hi": "hi"]) async throws -> (dir: String, root: String, id: String) {
        let dir = try Fixtures.scratch(label)
        try await importImage(dir: dir, root: dir + "/store", name: "app:1", files: files)
        let id = try await Fixtures.slipway(bin, root: dir + "/store", ["images", "-q", "--no-trunc"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return (dir, dir + "/store", id)
    }

    @discardableResult
    func importImage(dir: String, root: String, name: String, files: [String: String]) async throws -> String {
        let rootfs = dir + "/rootfs-\(UUID().uuidString)"
        for (path, content) in files {
            try FileManager.default.createDirectory(atPath: (rootfs + "/" + path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(content.utf8).write(to: URL(fileURLWithPath: rootfs + "/" + path))
        }
        try await Fixtures.sh("tar -C '\(rootfs)' -cf '\(rootfs).tar' .")
        let r = try await Fixtures.slipway(bin, root: root, ["import", rootfs + ".tar", name])
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func globalOptionsBeforeTheCommand() async throws {
        let (dir, root, id) = try await store("globals")
        defer { Fixtures.removeScratch(dir) }
        // --root DIR and --root=DIR before the command; $SLIPWAY_ROOT pointing elsewhere loses.
        for args in [["--root", root, "images", "-q", "--no-trunc"], ["--root=" + root, "images", "-q", "--no-trunc"]] {
            let r = try await Fixtures.run(bin, args, environment: ["SLIPWAY_ROOT": dir + "/elsewhere"])
            #expect(r.status == 0 && r.stdout == id + "\n", "\(args): \(r.stdout) \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/elsewhere"))
        // --config DIR: where login writes credentials (docker's config directory).
        try FileManager.default.createDirectory(atPath: dir + "/dockercfg", withIntermediateDirectories: true)
        try Data(#"{"auths":{"127.0.0.1:5000":{"auth":"bWU6c2VjcmV0"}}}"#.utf8).write(to: URL(fileURLWithPath: dir + "/dockercfg/config.json"))
        let elsewhere = try await Fixtures.run(bin, ["logout", "127.0.0.1:5000"], environment: ["HOME": dir, "DOCKER_CONFIG": dir + "/none"])
        #expect(elsewhere.stdout.contains("Not logged in"), "\(elsewhere.stdout) \(elsewhere.stderr)")
        let logout = try await Fixtures.run(bin, ["--config", dir + "/dockercfg", "logout", "127.0.0.1:5000"], environment: ["HOME": dir])
        #expect(logout.stdout.contains("Removed login credentials for 127.0.0.1:5000"), "\(logout.stdout) \(logout.stderr)")
        #expect(!(try String(contentsOfFile: dir + "/dockercfg/config.json", encoding: .utf8)).contains("bWU6"))
        // --debug: the error line, then the error's structure.
        let d = try await Fixtures.run(bin, ["--debug", "--root", root, "tag", "nope", "x"])
        #expect(d.status == 1)
        #expect(d.stderr.hasPrefix("error: no such image: nope\ndebug: "), "\(d.stderr)")
        #expect(d.stderr.contains("imageNotFound"), "\(d.stderr)")
        let plain = try await Fixtures.run(bin, ["--root", root, "tag", "nope", "x"])
        #expect(plain.stderr == "error: no such image: nope\n", "\(plain.stderr)")
    }

    @Test func managementAliases() async throws {
        let (dir, root, id) = try await store("aliases")
        defer { Fixtures.removeScratch(dir) }
        let short = String(id.dropFirst(7).prefix(12))
        #expect(try await Fixtures.run(bin, ["image", "ls", "-q", "--root", root]).stdout == short + "\n")
        #expect(try await Fixtures.run(bin, ["--root", root, "image", "list", "-q"]).stdout == short + "\n")
        #expect(try await Fixtures.run(bin, ["--root", root, "image", "tag", "app:1", "app:2"]).status == 0)
        let inspected = try await Fixtures.run(bin, ["--root", root, "image", "inspect", "-f", "{{.Id}}", "app:2"])
        #expect(inspected.stdout == id + "\n", "\(inspected.stderr)")
        let history = try await Fixtures.run(bin, ["--root", root, "image", "history", "-q", "app:2"])
        #expect(history.stdout == short + "\n", "\(history.stderr)")
        let rm = try await Fixtures.run(bin, ["--root", root, "image", "rm", "app:2"])
        #expect(rm.stdout.contains("Untagged: app:2"), "\(rm.stderr)")
        let saved = try await Fixtures.run(bin, ["--root", root, "image", "save", "-o", dir + "/app.tar", "app:1"])
        #expect(saved.status == 0, "\(saved.stderr)")
        let loaded = try await Fixtures.run(bin, ["--root", dir + "/other", "image", "load", "-i", dir + "/app.tar"])
        #expect(loaded.status == 0 && loaded.stdout.contains("app:1"), "\(loaded.stdout) \(loaded.stderr)")
        let prune = try await Fixtures.run(bin, ["--root", root, "image", "prune", "-f"])
        #expect(prune.status == 0 && prune.stdout.contains("Total reclaimed space"), "\(prune.stderr)")
        let builder = try await Fixtures.run(bin, ["--root", root, "builder", "prune", "-f"])
        #expect(builder.status == 0 && builder.stdout.contains("Deleted build-cache records: 0"), "\(builder.stderr)")
        let help = try await Fixtures.run(bin, ["image", "--help"])
        #expect(help.status == 0 && help.stdout.contains("  image ls            slipway images\n"), "\(help.stdout)")
        // buildx build and container run reach build and run: their usage errors name them.
        let buildx = try await Fixtures.run(bin, ["buildx", "build", "--no-such-flag", "."])
        #expect(buildx.status == 125 && buildx.stderr.contains("slipway build"), "\(buildx.stderr)")
        let crun = try await Fixtures.run(bin, ["container", "run", "--no-such-flag", "x"])
        #expect(crun.status == 125 && crun.stderr.contains("slipway run"), "\(crun.stderr)")
    }

    @Test func unknownCommandsAndUsageErrorsExit125() async throws {
        let cases: [([String], String)] = [
            (["imags"], "error: unknown command 'imags'; did you mean 'image' or 'images'?"),
            (["biuld", "."], "did you mean 'build'?"),
            (["image", "lss"], "error: unknown command 'image lss'; did you mean 'image ls'?"),
            (["image"], "'slipway image' needs a command"),
            (["--frob", "images"], "unknown global option '--frob'"),
            (["--root"], "--root needs a directory"),
            (["images", "--bogus"], "Unknown option '--bogus'"),
            (["history", "--last", "many", "--builds"], "--last"),
            (["build", "--no-such-flag", "."], "Unknown option '--no-such-flag'"),
        ]
        for (args, message) in cases {
            let r = try await Fixtures.run(bin, args, environment: ["SLIPWAY_ROOT": "/nonexistent-slipway-root"])
            #expect(r.status == 125, "\(args): status \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
            #expect(r.stdout.isEmpty, "\(args): \(r.stdout)")
        }
        // A build that fails (not a usage error) exits 1, as docker's.
        let dir = try Fixtures.scratch("buildfail")
        defer { Fixtures.removeScratch(dir) }
        try Data("FROM scratch\nCOPY missing.txt /\n".utf8).write(to: URL(fileURLWithPath: dir + "/Dockerfile"))
        let b = try await Fixtures.slipway(bin, root: dir + "/store", ["build", "--progress", "plain", dir])
        #expect(b.status == 1, "\(b.stderr)")
        #expect(try await Fixtures.run(bin, ["--help"]).status == 0)
        #expect(try await Fixtures.run(bin, ["--version"]).stdout == "0.1.0\n")
    }

    @Test func goTemplatesForImagesHistoryInspect() async throws {
        let (dir, root, id) = try await store("templates")
        defer { Fixtures.removeScratch(dir) }
        let short = String(id.dropFirst(7).prefix(12))
        try await Fixtures.slipway(bin, root: root, ["tag", "app:1", "ghcr.io/acme/app:2"])
        let plain = try await Fixtures.slipway(bin, root: root, ["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"])
        #expect(plain.stdout == "app:1 \(short)\nghcr.io/acme/app:2 \(short)\n", "\(plain.stderr)")
        // table: a header row from the fields, columns aligned as docker's tabwriter does.
        let table = try await Fixtures.slipway(bin, root: root, ["images", "--format", "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}"])
        #expect(table.stdout == """
            REPOSITORY         TAG   IMAGE ID
            app                1     \(short)
            ghcr.io/acme/app   2     \(short)

            """, "\(table.stdout)")
        let json = try await Fixtures.slipway(bin, root: root, ["images", "--format", "{{json .Tag}}"])
        #expect(json.stdout == "\"1\"\n\"2\"\n")
        let history = try await Fixtures.slipway(bin, root: root, ["history", "--format", "table {{.ID}}\\t{{.Comment}}", "app:1"])
        #expect(history.stdout.hasPrefix("IMAGE          COMMENT\n\(short)   Imported from "), "\(history.stdout)")
        let inspect = try await Fixtures.slipway(bin, root: root, ["inspect", "--format", "{{.Id}} {{join .RepoTags \",\"}} {{.Os}}/{{.Architecture}} {{len .RootFS.Layers}}", "app:1"])
        #expect(inspect.stdout.hasPrefix("\(id) app:1,ghcr.io/acme/app:2 linux/"), "\(inspect.stdout) \(inspect.stderr)")
        #expect(inspect.stdout.hasSuffix(" 1\n"))
        let range = try await Fixtures.slipway(bin, root: root, ["inspect", "-f", "{{range .RepoTags}}{{println .}}{{end}}", "app:1"])
        #expect(range.stdout == "app:1\nghcr.io/acme/app:2\n\n")
        let ifElse = try await Fixtures.slipway(bin, root: root, ["inspect", "-f", "{{if .Config.Env}}env{{else}}no env{{end}} {{upper .Os}}", "app:1"])
        #expect(ifElse.stdout == "no env LINUX\n", "\(ifElse.stdout) \(ifElse.stderr)")
        // Errors name the position in the template.
        let bad = try await Fixtures.slipway(bin, root: root, ["images", "--format", "{{.Tag | nosuch}}"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("template: :1:9: function \"nosuch\" not defined"), "\(bad.stderr)")
        let typo = try await Fixtures.slipway(bin, root: root, ["images", "--format", "{{.Repositry}}"])
        #expect(typo.status == 1 && typo.stderr.contains("template: :1:2: can't evaluate field Repositry: the fields are CreatedAt, CreatedSince, Digest, ID, Repository,"), "\(typo.stderr)")
        let absent = try await Fixtures.slipway(bin, root: root, ["inspect", "-f", "[{{.Author}}]", "app:1"])
        #expect(absent.stdout == "[]\n", "\(absent.stdout) \(absent.stderr)")
        let exec = try await Fixtures.slipway(bin, root: root, ["inspect", "-f", "{{index .RepoTags 7}}", "app:1"])
        #expect(exec.status == 1 && exec.stderr.contains("template: :1:2: error calling index: index out of range: 7"), "\(exec.stderr)")
    }

    @Test func pruneAsksFirstAndAllRemovesTaggedImages() async throws {
        let (dir, root, _) = try await store("prune")
        defer { Fixtures.removeScratch(dir) }
        try await importImage(dir: dir, root: root, name: "app:1", files: ["etc/two": "two"])   // the first is now untagged
        try await importImage(dir: dir, root: root, name: "keep:1", files: ["etc/three": "three"])
        func count() async throws -> Int {
            try await Fixtures.slipway(bin, root: root, ["images", "-q"]).stdout.split(separator: "\n").count
        }
        #expect(try await count() == 3)
        // On a terminal (util-linux's `script` gives the command one; what the test writes to
        // script's stdin is typed there) the question comes first.
        func onTerminal(_ args: [String], typing answer: String) async throws -> Fixtures.Result {
            let command = ([bin, "--root", root] + args).map { "'\($0)'" }.joined(separator: " ")
            return try await Fixtures.run("/usr/bin/script", ["-qec", command, "/dev/null"], stdin: answer)
        }
        for answer in ["n\n", "maybe\n", "\u{04}"] {
            let r = try await onTerminal(["prune"], typing: answer)
            #expect(r.status == 1, "\(answer): \(r.stdout) \(r.stderr)")
            #expect(r.stdout.contains("WARNING! This will remove all untagged images.\r\nAre you sure you want to continue? [y/N] "), "\(r.stdout)")
            #expect(r.stdout.contains("error: cancelled: nothing was removed (answer y to the question, or pass -f/--force to skip it)"), "\(r.stdout)")
        }
        #expect(try await count() == 3)
        let yes = try await onTerminal(["image", "prune"], typing: "y\n")
        #expect(yes.status == 0 && yes.stdout.contains("Deleted image: sha256:"), "\(yes.stdout) \(yes.stderr)")
        #expect(try await count() == 2)
        // A script is never stopped by a question: stdin is not a terminal, so no question.
        let all = try await Fixtures.run(bin, ["--root", root, "prune", "-a"], stdin: "")
        #expect(!all.stdout.contains("WARNING!"), "\(all.stdout)")
        #expect(all.status == 0 && all.stdout.components(separatedBy: "Deleted image:").count == 3, "\(all.stdout) \(all.stderr)")
        #expect(try await count() == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/blobs/sha256").isEmpty)
        let fsck = try await Fixtures.slipway(bin, root: root, ["fsck"])
        #expect(fsck.status == 0 && fsck.stdout.contains("store is valid"), "\(fsck.stdout)")
    }

    @Test func imagesFiltersHistoryHumanAndInspectOfSeveralNames() async throws {
        let dir = try Fixtures.scratch("filters")
        defer { Fixtures.removeScratch(dir) }
        let root = dir + "/store"
        // Three images created at known times (SOURCE_DATE_EPOCH), one of them untagged later.
        for (name, epoch) in [("old:1", "1000000000"), ("mid:1", "1100000000"), ("new:1", "1200000000")] {
            let rootfs = dir + "/" + name
            try FileManager.default.createDirectory(atPath: rootfs, withIntermediateDirectories: true)
            try Data(name.utf8).write(to: URL(fileURLWithPath: rootfs + "/name"))
            try await Fixtures.sh("tar -C '\(rootfs)' -cf '\(rootfs).tar' .")
            let r = try await Fixtures.run(bin, ["--root", root, "import", rootfs + ".tar", name], environment: ["SOURCE_DATE_EPOCH": epoch])
            #expect(r.status == 0, "\(r.stderr)")
        }
        try await Fixtures.slipway(bin, root: root, ["tag", "mid:1", "ghcr.io/acme/mid:2"])
        try FileManager.default.createDirectory(atPath: dir + "/ctx", withIntermediateDirectories: true)
        try Data("FROM scratch\nLABEL team=web tier=front\nCOPY Dockerfile /\n".utf8).write(to: URL(fileURLWithPath: dir + "/ctx/Dockerfile"))
        let built = try await Fixtures.slipway(bin, root: root, ["build", "-q", "-t", "web:1", dir + "/ctx"])
        #expect(built.status == 0, "\(built.stderr)")
        // An untagged image: old:1's tag moved to another image.
        let oldID = try await Fixtures.slipway(bin, root: root, ["inspect", "-f", "{{.Id}}", "old:1"]).stdout.trimmingCharacters(in: .newlines)
        try await Fixtures.slipway(bin, root: root, ["tag", "new:1", "old:1"])

        func names(_ filters: String...) async throws -> [String] {
            let r = try await Fixtures.slipway(bin, root: root, ["images", "--format", "{{.Repository}}:{{.Tag}}"] + filters.flatMap { ["--filter", $0] })
            #expect(r.status == 0, "\(filters): \(r.stderr)")
            return r.stdout.split(separator: "\n").map(String.init).sorted()
        }
        #expect(try await names("dangling=true") == ["<none>:<none>"])
        #expect(try await names("dangling=false").count == 5)
        #expect(try await names("reference=mid") == ["mid:1"])
        #expect(try await names("reference=*/*/mid:*") == ["ghcr.io/acme/mid:2"])
        #expect(try await names("reference=mid", "reference=web:*") == ["mid:1", "web:1"])
        #expect(try await names("before=mid:1") == ["<none>:<none>"])
        #expect(try await names("since=mid:1", "dangling=false") == ["new:1", "old:1", "web:1"])
        #expect(try await names("before=new:1", "since=\(oldID)") == ["ghcr.io/acme/mid:2", "mid:1"])
        #expect(try await names("label=team") == ["web:1"])
        #expect(try await names("label=team=web", "label=tier=front") == ["web:1"])
        #expect(try await names("label=team=db") == [])
        let labels = try await Fixtures.slipway(bin, root: root, ["inspect", "-f", "{{index .Config.Labels \"team\"}} {{json .Config.Labels}} {{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", "web:1"])
        #expect(labels.stdout == #"web {"team":"web","tier":"front"} team=web;tier=front;"# + "\n", "\(labels.stdout) \(labels.stderr)")
        let all = try await Fixtures.slipway(bin, root: root, ["images", "-a", "-q"])
        #expect(all.stdout.split(separator: "\n").count == 4)
        let bad = try await Fixtures.slipway(bin, root: root, ["images", "--filter", "color=red"])
        #expect(bad.status == 1 && bad.stderr.contains("invalid filter 'color'"), "\(bad.stderr)")

        // history --human=false: exact bytes and RFC 3339 times.
        let human = try await Fixtures.slipway(bin, root: root, ["history", "--format", "{{.CreatedSince}}|{{.Size}}", "mid:1"])
        #expect(human.stdout.hasSuffix("years ago|10.2kB\n"), "\(human.stdout)")
        let exact = try await Fixtures.slipway(bin, root: root, ["history", "--human=false", "--format", "{{.CreatedSince}}|{{.Size}}", "mid:1"])
        #expect(exact.stdout == "2004-11-09T11:33:20Z|10240\n", "\(exact.stdout) \(exact.stderr)")
        let short = try await Fixtures.slipway(bin, root: root, ["history", "-H=false", "--format", "{{.CreatedSince}}|{{.Size}}", "mid:1"])
        #expect(short.stdout == exact.stdout, "\(short.stderr)")
        let table = try await Fixtures.slipway(bin, root: root, ["history", "--human=false", "mid:1"])
        #expect(table.stdout.contains("   2004-11-09T11:33:20Z   ") && table.stdout.contains("   10240   "), "\(table.stdout)")

        // inspect of several names: the ones found, then one error line per missing name, exit 1.
        let some = try await Fixtures.slipway(bin, root: root, ["inspect", "mid:1", "nope:1", "web:1", "gone"])
        #expect(some.status == 1)
        #expect(some.stderr == "error: No such object: nope:1\nerror: No such object: gone\n", "\(some.stderr)")
        struct Found: Decodable { var RepoTags: [String] }
        let found = try JSONDecoder().decode([Found].self, from: Data(some.stdout.utf8))
        #expect(found.map(\.RepoTags) == [["ghcr.io/acme/mid:2", "mid:1"], ["web:1"]])
        let none = try await Fixtures.slipway(bin, root: root, ["inspect", "nope"])
        #expect(none.status == 1 && none.stdout == "[]\n", "\(none.stdout)")
    }

    @Test func systemDfAndBuilderPruneFilters() async throws {
        let (dir, root, _) = try await store("df")
        defer { Fixtures.removeScratch(dir) }
        // Two builds whose layers (60 kB of random bytes each: stored at about that size) only
        // the build cache keeps once their tags are gone; two's build is the more recent.
        for name in ["one", "two"] {
            let ctx = dir + "/ctx-" + name
            try FileManager.default.createDirectory(atPath: ctx, withIntermediateDirectories: true)
            try Data((0..<60_000).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: ctx + "/blob"))
            try Data("FROM scratch\nCOPY blob /\(name)\n".utf8).write(to: URL(fileURLWithPath: ctx + "/Dockerfile"))
            let b = try await Fixtures.slipway(bin, root: root, ["build", "-q", "-t", name + ":1", ctx])
            #expect(b.status == 0, "\(b.stderr)")
            #expect(try await Fixtures.slipway(bin, root: root, ["rmi", name + ":1"]).status == 0)
        }
        func rows() async throws -> [String: [String]] {
            let r = try await Fixtures.slipway(bin, root: root, ["system", "df"])
            #expect(r.status == 0, "\(r.stderr)")
            let lines = r.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first?.split(separator: " ").joined(separator: " ") == "TYPE TOTAL ACTIVE SIZE RECLAIMABLE")
            var out: [String: [String]] = [:]
            for line in lines.dropFirst() {
                let cells = line.components(separatedBy: "   ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                out[cells[0]] = Array(cells.dropFirst())
            }
            return out
        }
        var df = try await rows()
        #expect(df["Images"]?.prefix(2) == ["1", "1"], "\(df)")
        #expect(df["Build Cache"]?.first == "2" && df["Build Cache"]?[1] == "0", "\(df)")
        #expect(df["Build Cache"]?.last?.hasSuffix("(100%)") == true, "\(df)")
        #expect(df["Cache Mounts"] == ["0", "0", "0B", "0B"], "\(df)")
        #expect(df["Snapshots"] != nil)
        let verbose = try await Fixtures.slipway(bin, root: root, ["system", "df", "-v"])
        #expect(verbose.stdout.contains("Images space usage:") && verbose.stdout.contains("Build cache usage: "), "\(verbose.stdout)")
        #expect(verbose.stdout.contains("CACHE ID") && verbose.stdout.components(separatedBy: "   true").count == 3, "\(verbose.stdout)")

        let recent = try await Fixtures.slipway(bin, root: root, ["builder", "prune", "-f", "--filter", "until=1h"])
        #expect(recent.stdout.contains("Deleted build-cache records: 0"), "\(recent.stdout) \(recent.stderr)")
        let keep = try await Fixtures.slipway(bin, root: root, ["builder", "prune", "-f", "--keep-storage", "80k"])
        #expect(keep.stdout.contains("Deleted build-cache records: 1") && !keep.stdout.contains("reclaimed space: 0B"), "\(keep.stdout) \(keep.stderr)")
        df = try await rows()
        #expect(df["Build Cache"]?.first == "1", "\(df)")
        // The newer build's steps are the ones kept: rebuilding two hits the cache.
        let cached = try await Fixtures.slipway(bin, root: root, ["build", "--progress", "plain", "-t", "two:1", dir + "/ctx-two"])
        #expect(cached.stderr.contains("CACHED") || cached.stdout.contains("CACHED"), "\(cached.stdout) \(cached.stderr)")
        #expect(try await Fixtures.slipway(bin, root: root, ["rmi", "two:1"]).status == 0)
        let command = [bin, "--root", root, "builder", "prune", "--filter", "until=0s"].map { "'\($0)'" }.joined(separator: " ")
        let asked = try await Fixtures.run("/usr/bin/script", ["-qec", command, "/dev/null"], stdin: "y\n")
        #expect(asked.stdout.contains("WARNING! This will remove build cache not used for 0s.\r\n"), "\(asked.stdout)")
        #expect(asked.stdout.contains("Deleted build-cache records: 1"), "\(asked.stdout) \(asked.stderr)")
        df = try await rows()
        #expect(df["Build Cache"]?.first == "0", "\(df)")
        let bad = try await Fixtures.slipway(bin, root: root, ["builder", "prune", "-f", "--keep-storage", "lots"])
        #expect(bad.status == 1 && bad.stderr.contains("bad --keep-storage 'lots'"), "\(bad.stderr)")
        let badFilter = try await Fixtures.slipway(bin, root: root, ["builder", "prune", "-f", "--filter", "type=regular"])
        #expect(badFilter.status == 1 && badFilter.stderr.contains("until=DURATION"), "\(badFilter.stderr)")
        let fsck = try await Fixtures.slipway(bin, root: root, ["fsck"])
        #expect(fsck.status == 0 && fsck.stdout.contains("store is valid"), "\(fsck.stdout)")
    }
}
