import Foundation
import Testing
import OCI
@testable import Build

/// The pure rules of `COPY --link` (BuildKit's dockerfile2llb): when it applies, which
/// `--chown` values it accepts, and what its layer's cache key depends on.
@Suite("COPY --link rules")
struct LinkedCopyTests {
    func op(_ sources: [String] = ["app.txt"], dest: String = "/app/", link: Bool = true) -> CopyStep {
        CopyStep(spec: CopySpec(sources: sources, destination: dest, link: link))
    }

    @Test("--link applies unless --chmod is given (BuildKit then copies on top of the parent)")
    func applies() {
        #expect(LinkedCopy.applies(to: op()))
        #expect(!LinkedCopy.applies(to: op(link: false)))
        var withChmod = op()
        withChmod.spec.chmod = "755"
        #expect(!LinkedCopy.applies(to: withChmod))
        withChmod.spec.chmod = ""
        #expect(LinkedCopy.applies(to: withChmod))
    }

    @Test("--chown with --link: numeric ids and root are fine, names are refused with advice")
    func chown() throws {
        for ok in [nil, "", "1000", "1000:1000", "root", "root:root", "0:50"] {
            #expect(LinkedCopy.chownProblem(ok) == nil, "\(ok ?? "nil")")
        }
        let user = try #require(LinkedCopy.chownProblem("app"))
        #expect(user.contains("\"app\"") && user.contains("numeric ids"))
        let group = try #require(LinkedCopy.chownProblem("1000:staff"))
        #expect(group.contains("\"staff\"") && !group.contains("\"1000\""))
    }

    @Test("the layer key ignores the parent and WORKDIR spelling, but not what or where it copies")
    func layerKey() {
        let d = Digest.sha256("content")
        let base = CacheKey.linkLayer(op(), workdir: "/", sourceIdentity: "context", sourceDigest: d)
        // No parent input at all; the same absolute destination reached from another WORKDIR matches.
        #expect(CacheKey.linkLayer(op(dest: "app/"), workdir: "/", sourceIdentity: "context", sourceDigest: d) == base)
        #expect(CacheKey.linkLayer(op(dest: "../app/"), workdir: "/srv", sourceIdentity: "context", sourceDigest: d) == base)
        #expect(CacheKey.linkLayer(op(dest: "app/"), workdir: "/srv", sourceIdentity: "context", sourceDigest: d) != base)
        // A file destination differs from a directory one.
        #expect(CacheKey.linkLayer(op(dest: "/app"), workdir: "/", sourceIdentity: "context", sourceDigest: d) != base)
        #expect(CacheKey.linkLayer(op(), workdir: "/", sourceIdentity: "context", sourceDigest: Digest.sha256("other")) != base)
        #expect(CacheKey.linkLayer(op(), workdir: "/", sourceIdentity: "sha256:stage", sourceDigest: d) != base)
        #expect(CacheKey.linkLayer(op(["b.txt"]), workdir: "/", sourceIdentity: "context", sourceDigest: d) != base)
        var variants: [CopyStep] = []
        var o = op(); o.spec.chown = "1000"; variants.append(o)
        o = op(); o.spec.excludes = ["*.log"]; variants.append(o)
        o = op(); o.spec.parents = true; variants.append(o)
        o = op(); o.spec.isAdd = true; variants.append(o)
        o = op(); o.spec.isAdd = true; o.spec.unpack = false; variants.append(o)
        o = op(); o.spec.isAdd = true; o.spec.keepGitDir = true; variants.append(o)
        o = op(); o.spec.isAdd = true; o.spec.checksum = "sha256:00"; variants.append(o)
        o = op(); o.heredocs = [HeredocSource(name: "x", content: "body")]; variants.append(o)
        let keys = variants.map { CacheKey.linkLayer($0, workdir: "/", sourceIdentity: "context", sourceDigest: d) }
        #expect(Set(keys + [base]).count == keys.count + 1, "every flag changes the key")
    }

    @Test("the stage goes on from a key that chains the parent and the layer")
    func stageKey() {
        let d = Digest.sha256("content")
        let layer = CacheKey.linkLayer(op(), workdir: "/", sourceIdentity: "context", sourceDigest: d)
        let other = CacheKey.linkLayer(op(["b.txt"]), workdir: "/", sourceIdentity: "context", sourceDigest: d)
        let a = CacheKey.link(parent: .scratch(platform: nil), layerKey: layer)
        let b = CacheKey.link(parent: .image(configDigest: Digest.sha256("base")), layerKey: layer)
        #expect(a != b)
        #expect(a != CacheKey.link(parent: .scratch(platform: nil), layerKey: other))
    }
}

@Suite("Named contexts")
struct LinkedCopyKeyTests {
    @Test("a named context reads DIR/.dockerignore and hands out files as the build context does")
    func namedContext() throws {
        let t = TempTree("named")
        t.file(".dockerignore", "*.secret\n!keep.secret\n")
        t.file("a.txt", "a\n")
        t.file("x.secret", "x\n")
        t.file("keep.secret", "k\n")
        let ctx = try BuildContext.named(directory: t.path)
        #expect(ctx.isContext, "files land owned by root, like the main context's")
        #expect(try ctx.lookup("a.txt") != nil)
        #expect(try ctx.lookup("x.secret") == nil)
        #expect(try ctx.lookup("keep.secret") != nil)

        t.file(".dockerignore", "a[b\n")
        #expect(throws: ContextError.self) { _ = try BuildContext.named(directory: t.path) }
        let plain = TempTree("named-plain")
        plain.file("x.secret", "x\n")
        #expect(try BuildContext.named(directory: plain.path).lookup("x.secret") != nil, "no ignore file: everything")
    }

    @Test("a named context's file digests are kept between builds like the main context's")
    func namedContextMemo() async throws {
        let main = TempTree("named-main")
        let assets = TempTree("named-assets")
        assets.file("a.txt", "alpha")
        let memoDirectory = TempTree("named-memo").p("context-memo")
        let op = CopyStep(spec: CopySpec(sources: ["a.txt"], destination: "/s/"))
        let first = try ContextCopier(contextDirectory: main.path, dockerfile: "Dockerfile", memoDirectory: memoDirectory)
        let d0 = try await first.sourceDigest(op, from: .context(assets.path))
        try await first.finishBuild()
        let memoFile = ContextCopier.memoFile(in: memoDirectory, contextRoot: assets.path)
        #expect(FileManager.default.fileExists(atPath: memoFile))
        // Plant a digest (saved without the racy window): the next build must take it from there.
        try first.localContext(assets.path).memo.save(memoFile, racyWindow: -1)
        let planted = try String(contentsOfFile: memoFile, encoding: .utf8)
            .replacingOccurrences(of: Digest.sha256("alpha").encoded, with: String(repeating: "0", count: 64))
        try planted.write(toFile: memoFile, atomically: true, encoding: .utf8)
        let second = try ContextCopier(contextDirectory: main.path, dockerfile: "Dockerfile", memoDirectory: memoDirectory)
        #expect(try await second.sourceDigest(op, from: .context(assets.path)) != d0, "the remembered digest was used")
    }
}
