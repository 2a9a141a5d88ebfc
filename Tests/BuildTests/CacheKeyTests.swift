import Foundation
import OCI
import Testing
@testable import Build

@Suite("Cache keys for COPY/ADD and other steps")
struct CacheKeyTests {
    let parent = Digest.sha256("FROM debian:12")

    func key(_ t: TempTree, _ sources: [String] = ["src"], args: [String: String] = [:], chown: String? = nil) throws -> Digest {
        let ctx = try BuildContext(directory: t.path)
        let spec = CopySpec(sources: sources, destination: "/app/", chown: chown)
        return try CacheKey.forCopy(parent: parent, instruction: "COPY \(sources.joined(separator: " ")) /app/",
                                    buildArgs: args, spec: spec, source: ctx).digest
    }

    func project() -> TempTree {
        let t = TempTree("key")
        t.file("src/main.go", "package main\nfunc main() {}\n")
        t.file("src/lib/lib.go", "package lib\n")
        t.file("docs/README.md", "docs")
        t.file("go.mod", "module x\n")
        return t
    }

    @Test func touchKeepsTheKeyAndAnEditChangesIt() throws {
        let t = project()
        let k0 = try key(t)
        #expect(try key(t) == k0, "deterministic")
        t.touch("src/main.go", seconds: 1_234_567)
        t.touch("src", seconds: 7_654_321)
        #expect(try key(t) == k0, "touch keeps the key")
        t.file("src/lib/lib.go", "package lib // changed\n")
        #expect(try key(t) != k0, "an edit changes the key")
    }

    @Test func unrelatedFilesDoNotChangeTheKey() throws {
        let t = project()
        let k0 = try key(t)
        let kMod = try key(t, ["go.mod"])
        t.file("docs/README.md", "rewritten docs")
        t.file("new-file.txt", "new")
        #expect(try key(t) == k0)
        #expect(try key(t, ["go.mod"]) == kMod)
        t.file("src/new.go", "package main")
        #expect(try key(t) != k0, "a new file inside a copied directory changes the key")
        #expect(try key(t, ["go.mod"]) == kMod)
    }

    @Test func wildcardKeysSeeOnlyMatchedFiles() throws {
        let t = project()
        t.file("a.json", "{}")
        let k0 = try key(t, ["*.json"])
        t.file("go.mod", "module y\n")
        #expect(try key(t, ["*.json"]) == k0)
        t.file("b.json", "[]")
        #expect(try key(t, ["*.json"]) != k0, "a new match changes the key")
    }

    @Test func argsFlagsAndParentAreInTheKey() throws {
        let t = project()
        let base = try key(t, args: ["A": "1", "B": "2"])
        #expect(try key(t, args: ["B": "2", "A": "1"]) == base, "arg order does not matter")
        #expect(try key(t, args: ["A": "1", "B": "3"]) != base)
        #expect(try key(t, args: ["A": "1"]) != base)
        #expect(try key(t, args: ["A": "1", "B": "2"], chown: "1000") != base)
        let a = CacheKey(parent: parent, instruction: "RUN make", buildArgs: ["X": "1"])
        var b = a
        b.parent = Digest.sha256("other parent")
        #expect(a.digest != b.digest)
        var c = a
        c.instruction = "RUN make all"
        #expect(a.digest != c.digest)
        // Field boundaries are unambiguous.
        let d1 = CacheKey(parent: nil, instruction: "x", buildArgs: ["a": "bc"]).digest
        let d2 = CacheKey(parent: nil, instruction: "x", buildArgs: ["ab": "c"]).digest
        #expect(d1 != d2)
    }

    @Test func permissionChangeChangesTheKeyButOwnerOfContextDoesToo() throws {
        let t = project()
        let k0 = try key(t)
        chmod(t.p("src/main.go"), 0o755)
        #expect(try key(t) != k0)
    }
}

@Suite("Digest memo kept between builds")
struct CacheKeyMemoTests {
    @Test func savedMemoIsReusedAndEditsStillInvalidate() throws {
        let t = TempTree("memo-file")
        t.file("src/a.txt", "alpha")
        t.file("src/b.txt", "beta")
        let store = TempTree("memo-store")
        let memoFile = store.p("context.memo")
        let spec = CopySpec(sources: ["src"], destination: "/s/")
        let first = try BuildContext(directory: t.path)
        let d0 = try Copier.sourceDigest(spec, from: first)
        try first.memo.save(memoFile, racyWindow: -1)

        // The next build trusts the memo for unchanged files: prove it by planting a digest.
        let planted = try String(contentsOfFile: memoFile, encoding: .utf8)
            .replacingOccurrences(of: Digest.sha256("alpha").encoded, with: String(repeating: "0", count: 64))
        try planted.write(toFile: memoFile, atomically: true, encoding: .utf8)
        let second = try BuildContext(directory: t.path)
        second.loadDigestMemo(from: memoFile)
        #expect(try Copier.sourceDigest(spec, from: second) != d0, "the remembered digest was used, not the file")

        // An edit (new ctime) is never served from the memo, even with the old mtime and size.
        let third = try BuildContext(directory: t.path)
        third.loadDigestMemo(from: memoFile)
        t.file("src/a.txt", "ALPHA")
        t.touch("src/a.txt", seconds: 1_000)
        let edited = try BuildContext(directory: t.path)
        #expect(try Copier.sourceDigest(spec, from: third) == Copier.sourceDigest(spec, from: edited))
        #expect(try Copier.sourceDigest(spec, from: third) != d0)

        // Files changed in the last seconds are not saved (racy entries).
        try first.saveDigestMemo(to: memoFile)
        #expect(try String(contentsOfFile: memoFile, encoding: .utf8).isEmpty)
    }
}
