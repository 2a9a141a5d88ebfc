import Foundation
import Testing
@testable import Build

/// The build's COPY reads the main context through BuildKit's ignore-file rules: the
/// Dockerfile-specific file wins, patterns have moby/patternmatcher semantics.
@Suite("ContextCopier: ignore files")
struct ContextCopierIgnoreTests {
    /// What `COPY . /out/` copies from `ctx` with the copier the build would open.
    func copied(_ ctx: TempTree, dockerfilePath: String?) async throws -> Set<String> {
        let copier = try ContextCopier(contextDirectory: ctx.path, dockerfile: "Dockerfile", dockerfilePath: dockerfilePath)
        let root = TempTree("ignore-root")
        try await copier.copy(CopyStep(spec: CopySpec(sources: ["."], destination: "/out/")), from: .context(ctx.path),
                              into: root.path, workdir: "/")
        var found: Set<String> = []
        let base = root.p("out")
        let walker = FileManager.default.enumerator(atPath: base)
        while let rel = walker?.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: base + "/" + rel, isDirectory: &isDir), !isDir.boolValue {
                found.insert(rel)
            }
        }
        return found
    }

    @Test("Dockerfile.dockerignore beside the Dockerfile wins over the context's .dockerignore")
    func dockerfileSpecificWins() async throws {
        let t = TempTree("ign-specific")
        t.file("a.txt", "a"); t.file("b.txt", "b")
        t.file(".dockerignore", "a.txt\n")
        t.file("Dockerfile", "FROM scratch\n")
        t.file("Dockerfile.dockerignore", "b.txt\n")
        let files = try await copied(t, dockerfilePath: t.p("Dockerfile"))
        #expect(files.contains("a.txt") && !files.contains("b.txt"), "\(files)")
        // A Dockerfile from stdin has no file of its own: the context's .dockerignore applies.
        let stdin = try await copied(t, dockerfilePath: nil)
        #expect(!stdin.contains("a.txt") && stdin.contains("b.txt"), "\(stdin)")
    }

    @Test("-f sub/app.Dockerfile reads sub/app.Dockerfile.dockerignore, not Dockerfile.dockerignore")
    func subdirectoryDockerfile() async throws {
        let t = TempTree("ign-sub")
        t.file("a.txt", "a"); t.file("b.txt", "b"); t.file("c.txt", "c")
        t.file(".dockerignore", "a.txt\n")
        t.file("Dockerfile.dockerignore", "c.txt\n")
        t.file("sub/app.Dockerfile", "FROM scratch\n")
        t.file("sub/app.Dockerfile.dockerignore", "b.txt\nsub\n")
        let files = try await copied(t, dockerfilePath: t.p("sub/app.Dockerfile"))
        #expect(files == [".dockerignore", "Dockerfile.dockerignore", "a.txt", "c.txt"], "\(files)")
        // Without its own ignore file, -f sub/other.Dockerfile falls back to the context's.
        t.file("sub/other.Dockerfile", "FROM scratch\n")
        let other = try await copied(t, dockerfilePath: t.p("sub/other.Dockerfile"))
        #expect(!other.contains("a.txt") && other.contains("b.txt") && other.contains("c.txt"), "\(other)")
    }

    @Test("! exceptions re-include files below an excluded directory; ** matches any depth")
    func exceptionsAndDoubleStar() async throws {
        let t = TempTree("ign-except")
        t.file("docs/guide.md", "g"); t.file("docs/keep/readme.md", "r"); t.file("docs/img.png", "p")
        t.file("src/main.go", "m"); t.file("src/deep/x/gen.tmp", "t"); t.file("top.tmp", "t")
        t.file(".dockerignore", "docs\n!docs/keep/*.md\n**/*.tmp\n.dockerignore\n")
        let files = try await copied(t, dockerfilePath: t.p("Dockerfile"))
        #expect(files == ["docs/keep/readme.md", "src/main.go"], "\(files)")
    }

    @Test("a malformed pattern is an error naming the ignore file")
    func malformedPattern() throws {
        let t = TempTree("ign-bad")
        t.file("Dockerfile.dockerignore", "!\n")
        #expect(throws: ContextError.self) {
            try ContextCopier(contextDirectory: t.path, dockerfile: "Dockerfile", dockerfilePath: t.p("Dockerfile"))
        }
        do {
            _ = try ContextCopier(contextDirectory: t.path, dockerfile: "Dockerfile", dockerfilePath: t.p("Dockerfile"))
        } catch {
            #expect("\(error)".contains("Dockerfile.dockerignore"), "\(error)")
        }
    }
}

extension ContextCopierIgnoreTests {
    @Test("without ignore patterns the context's filter is IncludeEverything (bind mounts skip the hidden-path walk)")
    func noPatterns() throws {
        let t = TempTree("ign-none")
        t.file("a.txt", "a")
        #expect(try ContextCopier(contextDirectory: t.path, dockerfile: "Dockerfile", dockerfilePath: t.p("Dockerfile"))
            .context.filter is IncludeEverything)
        t.file(".dockerignore", "# only a comment\n\n")
        #expect(try ContextCopier(contextDirectory: t.path, dockerfile: "Dockerfile", dockerfilePath: t.p("Dockerfile"))
            .context.filter is IncludeEverything)
        t.file(".dockerignore", "a.txt\n")
        #expect(try !(ContextCopier(contextDirectory: t.path, dockerfile: "Dockerfile", dockerfilePath: t.p("Dockerfile"))
            .context.filter is IncludeEverything))
    }
}
