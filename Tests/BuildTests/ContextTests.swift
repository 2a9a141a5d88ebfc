import Foundation
import System
import OCI
import Testing
@testable import Build
import Dockerfile

@Suite("Build context: globs, walk, hashing, symlink confinement")
struct ContextTests {
    @Test("Go filepath.Match semantics per segment", arguments: [
        ("*.go", "main.go", true), ("*.go", "main.c", false), ("*", "a/b", false),
        ("a?c", "abc", true), ("a?c", "a/c", false), ("[a-c]x", "bx", true), ("[a-c]x", "dx", false),
        ("[^a-c]x", "dx", true), ("[!a]x", "!x", true), ("arr[[]0].txt", "arr[0].txt", true),
        ("\\*", "*", true), ("\\*", "a", false), ("*.tar.*", "x.tar.gz", true), ("*", "", true),
        ("index.?s", "index.ts", true), ("[\\]]", "]", true), ("a*b*c", "axxbyyc", true), ("a*b", "axxbc", false),
    ])
    func globMatches(_ pattern: String, _ name: String, _ expected: Bool) throws {
        #expect(try GlobPattern(pattern).matches(name) == expected)
    }

    @Test("malformed patterns are rejected", arguments: ["[", "a[", "[]", "\\", "[a-", "x[^]"])
    func globMalformed(_ pattern: String) {
        #expect(throws: ContextError.self) {
            do { _ = try GlobPattern(pattern) } catch { throw ContextError.badPattern(pattern) }
        }
        #expect((try? GlobPattern(pattern)) == nil)
    }

    @Test func patternSetMatchesDirectoriesNegationsAndDoubleStar() throws {
        let set = try PathPatternSet(["*.txt", "build", "!keep.txt", "src/**/gen"])
        #expect(set.matches("a.txt"))
        #expect(!set.matches("keep.txt"))
        #expect(!set.matches("dir/a.txt"))
        #expect(set.matches("build/out/x.o"))
        #expect(set.matches("src/gen"))
        #expect(set.matches("src/a/b/gen/file.go"))
        #expect(!set.matches("src/a/b/main.go"))
        #expect(set.hasNegations)
    }

    /// Counts what the walk asks, to prove an excluded directory is never opened.
    final class RecordingFilter: PathFilter, @unchecked Sendable {
        let inner: PathPatternSet
        let lock = NSLock()
        var asked: [String] = []
        init(_ patterns: [String]) throws { inner = try PathPatternSet(patterns) }
        func includes(_ path: String) -> Bool {
            lock.lock(); asked.append(path); lock.unlock()
            return inner.includes(path)
        }
        func mightIncludeUnder(_ dir: String) -> Bool { inner.mightIncludeUnder(dir) }
    }

    @Test func walkHonoursFilterAndSkipsWholeDirectories() throws {
        let t = TempTree("walk")
        t.file("main.go", "package main")
        t.file("node_modules/a/index.js", "x")
        t.file("node_modules/b/index.js", "y")
        t.file("docs/readme.md", "doc")
        t.file("docs/secret.key", "k")
        let filter = try RecordingFilter(["node_modules", "**/*.key"])
        let ctx = try BuildContext(directory: t.path, filter: filter)
        var seen: [String] = []
        try ctx.walk(under: "", hostPath: ctx.root) { rel, _, _, visible in
            if visible { seen.append(rel) }
            return true
        }
        #expect(seen == ["docs", "docs/readme.md", "main.go"])
        // Nothing below node_modules was ever looked at.
        #expect(!filter.asked.contains { $0.hasPrefix("node_modules/") })
        // An excluded file cannot be named as a COPY source.
        #expect(try ctx.lookup("docs/secret.key") == nil)
        #expect(try ctx.lookup("node_modules/a/index.js") == nil)
        #expect(try ctx.lookup("docs/readme.md") != nil)
    }

    @Test func wildcardExpansion() throws {
        let t = TempTree("glob")
        t.file("a.txt", "a"); t.file("b.txt", "b"); t.file("c.md", "c")
        t.file("sub/x.txt", "x"); t.file("other/x.txt", "y"); t.file("arr[0].txt", "z")
        let ctx = try BuildContext(directory: t.path)
        #expect(try ctx.expand("*.txt")?.map(\.path) == ["a.txt", "arr[0].txt", "b.txt"])
        #expect(try ctx.expand("./sub/*.txt")?.map(\.path) == ["sub/x.txt"])
        #expect(try ctx.expand("*/x.txt")?.map(\.path) == ["other/x.txt", "sub/x.txt"])
        #expect(try ctx.expand("arr[[]0].txt")?.map(\.path) == ["arr[0].txt"])
        #expect(try ctx.expand("/../a.txt")?.map(\.path) == ["a.txt"])
        #expect(try ctx.expand("*.none") == [])
        #expect(try ctx.expand("missing.txt") == nil)
    }

    @Test func hashIgnoresMtimeButSeesContentModeAndLinks() throws {
        let t = TempTree("hash")
        t.file("app/main.go", "package main")
        t.file("app/util.go", "package util")
        t.link("app/link", to: "main.go")
        let ctx = { try BuildContext(directory: t.path) }
        let digest = { try Copier.sourceDigest(CopySpec(sources: ["app"], destination: "/src/"), from: ctx()) }
        let d0 = try digest()
        t.touch("app/main.go", seconds: 1_000_000)
        #expect(try digest() == d0, "touch must keep the digest")
        t.file("app/main.go", "package main // edited")
        let d1 = try digest()
        #expect(d1 != d0, "an edit must change the digest")
        chmod(t.p("app/util.go"), 0o755)
        let d2 = try digest()
        #expect(d2 != d1, "a mode change must change the digest")
        unlink(t.p("app/link")); t.link("app/link", to: "util.go")
        #expect(try digest() != d2, "a new link target must change the digest")
    }

    @Test func memoReusesFileDigestsWithinABuild() throws {
        let t = TempTree("memo")
        t.file("a.txt", "one")
        let ctx = try BuildContext(directory: t.path)
        let s = try #require(try ctx.lookup("a.txt"))
        let d1 = try ctx.contentDigest(of: [s])
        #expect(try ctx.contentDigest(of: [s]) == d1)
        // A changed file is re-read even within the same build (stat differs).
        t.file("a.txt", "two!")
        let s2 = try #require(try ctx.lookup("a.txt"))
        #expect(try ctx.contentDigest(of: [s2]) != d1)
    }

    @Test func symlinkedParentOutsideContextIsRefused() throws {
        let outside = TempTree("outside")
        outside.file("passwd", "root:x:0:0::/root:/bin/sh")
        let t = TempTree("esc1")
        t.link("etc", to: outside.path)
        let ctx = try BuildContext(directory: t.path)
        let spec = CopySpec(sources: ["etc/passwd"], destination: "/x", line: 4)
        let err = try #require(throws: CopyError.self) { try Copier.resolveSources(spec, from: ctx) }
        guard case .outsideContext = err.kind else { Issue.record("wrong error \(err)"); return }
        #expect(err.description.hasPrefix("Dockerfile:4: COPY failed: source path \"etc/passwd\" resolves outside the build context"))
        #expect(err.description.contains(outside.path))
    }

    @Test func namedSymlinkSourceOutsideContextIsRefused() throws {
        let outside = TempTree("outside2")
        outside.file("secret", "s3cr3t")
        let t = TempTree("esc2")
        t.link("leak", to: outside.p("secret"))
        t.link("up", to: "../\((outside.path as NSString).lastPathComponent)/secret")
        t.file("real.txt", "ok")
        t.link("inside", to: "real.txt")
        let ctx = try BuildContext(directory: t.path)
        for src in ["leak", "up", "*ea*"] {
            let err = try #require(throws: CopyError.self) {
                try Copier.resolveSources(CopySpec(sources: [src], destination: "/x", line: 9), from: ctx)
            }
            guard case .outsideContext = err.kind else { Issue.record("wrong error for \(src): \(err)"); continue }
        }
        // A symlink that stays inside is followed (BuildKit copies its target).
        let ok = try Copier.resolveSources(CopySpec(sources: ["inside"], destination: "/x"), from: ctx)
        #expect(ok.first?.resolved == "real.txt")
        #expect(ok.first?.stat.kind == .regular)
        // And the digest of the context never reads the outside file.
        #expect(throws: CopyError.self) { try Copier.sourceDigest(CopySpec(sources: ["leak"], destination: "/x"), from: ctx) }
    }

    @Test func missingSourceErrorNamesLineAndPath() throws {
        let t = TempTree("missing")
        t.file("secret.txt", "x")
        let ctx = try BuildContext(directory: t.path, filter: try PathPatternSet(["secret.txt"]))
        for (src, shown) in [("nope.txt", "/nope.txt"), ("secret.txt", "/secret.txt"), ("./dir/../nope", "/nope")] {
            let err = try #require(throws: CopyError.self) {
                try Copier.resolveSources(CopySpec(sources: [src], destination: "/x", line: 7), from: ctx)
            }
            #expect(err.description == "Dockerfile:7: COPY failed: file not found in build context or excluded by .dockerignore: stat \(shown): file does not exist")
        }
        // An empty wildcard match is not an error (BuildKit's AllowEmptyWildcard).
        #expect(try Copier.resolveSources(CopySpec(sources: ["*.none"], destination: "/x/"), from: ctx).isEmpty)
    }

    @Test func stageRootfsResolvesAbsoluteLinksInsideItself() throws {
        let stage = TempTree("stage")
        stage.file("bin/busybox", "BB", mode: 0o755)
        stage.link("usr/bin/tool", to: "/bin/busybox")
        stage.link("usr/bin/up", to: "../../../../../bin/busybox")
        let ctx = try BuildContext(stageRootfs: stage.path)
        #expect(try ctx.lookup("/usr/bin/tool")?.hostPath == stage.p("bin/busybox"))
        #expect(try ctx.lookup("/usr/bin/up")?.hostPath == stage.p("bin/busybox"))
    }
}

@Suite("Build context with the Dockerfile module's .dockerignore matcher")
struct ContextIgnoreMatcherTests {
    @Test func ignoreMatcherFiltersTheContext() throws {
        let t = TempTree("ignore")
        t.file("app/main.go", "m")
        t.file("app/main_test.go", "t")
        t.file("node_modules/x/y.js", "y")
        t.file("logs/keep.log", "k")
        t.file("logs/drop.log", "d")
        let matcher = try IgnoreMatcher(ignoreFile: "node_modules\n**/*_test.go\nlogs\n!logs/keep.log\n")
        let ctx = try BuildContext(directory: t.path, filter: matcher)
        #expect(try ctx.lookup("app/main_test.go") == nil)
        #expect(try ctx.lookup("node_modules") == nil)
        #expect(try ctx.lookup("logs/keep.log") != nil)
        let r = TempTree("ignore-root")
        try Copier.copy(CopySpec(sources: ["."], destination: "/w/"), from: ctx, into: r.path)
        #expect(r.exists("w/app/main.go") && !r.exists("w/app/main_test.go"))
        #expect(!r.exists("w/node_modules"))
        #expect(r.exists("w/logs/keep.log") && !r.exists("w/logs/drop.log"))
        // The digest of `.` does not see ignored files.
        let d0 = try Copier.sourceDigest(CopySpec(sources: ["."], destination: "/w/"), from: ctx)
        t.file("node_modules/x/y.js", "changed")
        t.file("logs/drop.log", "changed")
        #expect(try Copier.sourceDigest(CopySpec(sources: ["."], destination: "/w/"), from: try BuildContext(directory: t.path, filter: matcher)) == d0)
    }
}

@Suite("Symlinked parents inside the context")
struct ContextParentLinkTests {
    @Test func parentSymlinkInsideIsFollowedAndRelativeEscapeIsRefused() throws {
        let t = TempTree("plink")
        t.file("real/sub/f.txt", "f")
        t.link("alias", to: "real")
        t.link("abs", to: t.p("real"))
        t.link("real/sub/out", to: "../../..")
        let ctx = try BuildContext(directory: t.path)
        #expect(try ctx.lookup("alias/sub/f.txt")?.resolved == "real/sub/f.txt")
        #expect(try ctx.lookup("abs/sub/f.txt")?.resolved == "real/sub/f.txt")
        #expect(try ctx.expand("alias/*/f.txt")?.map(\.resolved) == ["real/sub/f.txt"])
        let err = try #require(throws: CopyError.self) {
            try Copier.resolveSources(CopySpec(sources: ["real/sub/out/etc"], destination: "/x", line: 1), from: ctx)
        }
        guard case .outsideContext = err.kind else { Issue.record("wrong error \(err)"); return }
        // Copying the directory copies the escaping link as a link, without following it.
        let r = TempTree("plink-root")
        try Copier.copy(CopySpec(sources: ["real"], destination: "/r/"), from: ctx, into: r.path)
        #expect(try FileSystem.readLink(r.p("r/sub/out")) == "../../..")
    }
}

@Suite("Opening a build's context")
struct ContextForBuildTests {
    @Test func dockerfileSpecificIgnoreWins() throws {
        let t = TempTree("forbuild")
        t.file("a.txt", "a"); t.file("b.txt", "b")
        t.file(".dockerignore", "a.txt\n")
        t.file("build/app.Dockerfile", "FROM scratch\n")
        t.file("build/app.Dockerfile.dockerignore", "b.txt\n")
        let general = try BuildContext.forBuild(contextDirectory: t.path, dockerfilePath: t.p("Dockerfile"))
        #expect(try general.lookup("a.txt") == nil && general.lookup("b.txt") != nil)
        let specific = try BuildContext.forBuild(contextDirectory: t.path, dockerfilePath: t.p("build/app.Dockerfile"))
        #expect(try specific.lookup("a.txt") != nil && specific.lookup("b.txt") == nil)
    }
}
