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
