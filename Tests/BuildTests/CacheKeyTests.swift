import Foundation
import OCI
import Testing
@testable import Build

/// The keys the engine uses (`CacheKey`, format 2): the COPY key over the context's content
/// digests, and the encoding's injectivity.
@Suite("Cache keys for COPY/ADD and other steps")
struct CacheKeyTests {
    let parent = CacheKey.image(configDigest: Digest.sha256("FROM debian:12"))

    func key(_ t: TempTree, _ sources: [String] = ["src"], chown: String? = nil, parent: CacheKey? = nil,
             layers: [Digest] = []) throws -> CacheKey {
        let ctx = try BuildContext(directory: t.path)
        let copy = CopyStep(spec: CopySpec(sources: sources, destination: "/app/", chown: chown))
        let digest = try Copier.sourceDigest(copy.spec, from: ctx)
        return .copy(parent: parent ?? self.parent, layers: layers, copy, workdir: "/", sourceIdentity: "context", sourceDigest: digest)
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

    @Test("the parent, the layers below and the flags are in a COPY's key")
    func parentLayersAndFlags() throws {
        let t = project()
        let base = try key(t)
        #expect(try key(t, chown: "1000") != base)
        #expect(try key(t, parent: .scratch(platform: nil)) != base)
        #expect(try key(t, layers: [Digest.sha256("layer")]) != base, "a record is tied to the content it was built on")
    }

    @Test func permissionChangeChangesTheKeyButOwnerOfContextDoesToo() throws {
        let t = project()
        let k0 = try key(t)
        chmod(t.p("src/main.go"), 0o755)
        #expect(try key(t) != k0)
    }

    func run(_ argv: [String], env: [String] = ["PATH=/bin"], parent: CacheKey = .scratch(platform: nil),
             layers: [Digest] = [], user: String = "", workdir: String = "/", network: String = "host",
             security: String = "sandbox", script: (name: String, data: String)? = nil, mounts: [[String]] = [],
             ca: Bool = false, platform: String = "linux/amd64") -> CacheKey {
        .run(parent: parent, layers: layers, argv: argv, env: env, user: user, workdir: workdir, network: network,
             security: security, script: script, mounts: mounts, hostCABundle: ca, platform: platform)
    }

    @Test("regression: a heredoc RUN and `RUN echo one > /r\\n` no longer share a key (v1 escaped newlines as \\n)")
    func heredocNewlineCollision() {
        let heredoc = run(["/bin/sh", "-c", "echo one > /r\n"])
        let escaped = run(["/bin/sh", "-c", "echo one > /r\\n"])
        #expect(heredoc != escaped)
    }

    @Test("every RUN input is in the key")
    func runInputs() {
        let base = run(["/bin/sh", "-c", "make"])
        let variants = [
            run(["/bin/sh", "-c", "make all"]), run(["/bin/sh", "-c", "make"], env: ["PATH=/bin", "A=1"]),
            run(["/bin/sh", "-c", "make"], parent: .image(configDigest: Digest.sha256("x"))),
            run(["/bin/sh", "-c", "make"], layers: [Digest.sha256("l")]), run(["/bin/sh", "-c", "make"], user: "app"),
            run(["/bin/sh", "-c", "make"], workdir: "/src"), run(["/bin/sh", "-c", "make"], network: "none"),
            run(["/bin/sh", "-c", "make"], security: "insecure"), run(["/bin/sh", "-c", "make"], script: ("EOF", "#!/bin/sh")),
            run(["/bin/sh", "-c", "make"], mounts: [["type=secret", "id=tok"]]), run(["/bin/sh", "-c", "make"], ca: true),
            run(["/bin/sh", "-c", "make"], platform: "linux/arm64"),
            run(["/bin/bash", "-c", "make"]),
        ]
        #expect(Set(variants.map(\.digest) + [base.digest]).count == variants.count + 1)
    }

    @Test("property: distinct field values never encode alike (newlines, backslashes, =, :, NUL, separators)")
    func injective() {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [String] = ["a", "b", "\n", "\\", "\\n", "=", ":", "\u{0}", "#", "1", "2:", "#1", " ", ","]
        func word() -> String { (0..<Int.random(in: 0...4, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined() }
        func list() -> [String] { (0..<Int.random(in: 0...3, using: &rng)).map { _ in word() } }
        var seen: [Digest: [[String]]] = [:]
        for _ in 0..<5_000 {
            let argv = list(), env = list(), mount = list()
            let user = word(), workdir = word()
            let k = run(argv, env: env, user: user, workdir: workdir, mounts: mount.isEmpty ? [] : [mount])
            let inputs = [argv, env, [user], [workdir], mount]
            if let other = seen[k.digest] {
                #expect(other == inputs, "collision: \(other) vs \(inputs)")
            }
            seen[k.digest] = inputs
        }
        // Splitting one list differently, or moving a value between fields, gives another key.
        #expect(run(["a", "b"], env: []) != run(["a"], env: ["b"]))
        #expect(run(["ab"]) != run(["a", "b"]))
        #expect(run([], env: [], mounts: [["a"], ["b"]]) != run([], env: [], mounts: [["a", "b"]]))
        var x = CacheKey(.metadata), y = CacheKey(.metadata)
        x.add("t", "1:a"); y.add("t", list: ["a"])
        #expect(x != y, "a scalar and a list never encode alike")
        #expect(CacheKey(.run).digest != CacheKey(.copy).digest, "the kind is part of the key")
    }

    @Test("the format version is in the encoding (old records stop matching)")
    func versioned() {
        let text = String(decoding: CacheKey(.run).encoded, as: UTF8.self)
        #expect(text.contains("\(CacheKey.formatVersion)"))
        #expect(CacheKey.formatVersion >= 2)
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
