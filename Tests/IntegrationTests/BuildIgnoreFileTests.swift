import Foundation
import Testing
import TestSupport

/// `slipway build` reads the context through BuildKit's ignore file: `<Dockerfile>.dockerignore`
/// beside the Dockerfile (`-f`) wins over the context's `.dockerignore`; a Dockerfile from stdin
/// has none of its own.
@Suite("Build: Dockerfile-specific .dockerignore", .serialized, .requires(BuildHarness.requirements))
struct BuildIgnoreFileTests {
    @Test("-f sub/app.Dockerfile uses sub/app.Dockerfile.dockerignore; stdin uses .dockerignore; ! re-includes")
    func dockerfileSpecific() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        let dockerfile = "FROM busybox:latest\nCOPY . /ctx/\nRUN cd /ctx && find . -type f | sort > /list\n"
        try s.write("a.txt", "a"); try s.write("b.txt", "b")
        try s.write("logs/keep.log", "k"); try s.write("logs/drop.log", "d")
        try s.write(".dockerignore", "a.txt\nsub\n.dockerignore\n")
        try s.write("sub/app.Dockerfile", dockerfile)
        try s.write("sub/app.Dockerfile.dockerignore", "b.txt\nsub\nlogs\n!logs/keep.log\n**/.dockerignore\n")

        let specific = try await s.build(["-f", s.context + "/sub/app.Dockerfile", "-t", "ign:f"])
        #expect(specific.status == 0, "\(specific.combined)")
        let list = try await s.slipway(["run", "ign:f", "cat", "/list"])
        #expect(list.stdout == "./a.txt\n./logs/keep.log\n", "\(list.combined)")

        let stdin = try await s.slipway(["build", "--progress", "plain", "-f", "-", "-t", "ign:stdin", s.context], stdin: dockerfile)
        #expect(stdin.status == 0, "\(stdin.combined)")
        let list2 = try await s.slipway(["run", "ign:stdin", "cat", "/list"])
        #expect(list2.stdout == "./b.txt\n./logs/drop.log\n./logs/keep.log\n", "\(list2.combined)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }
}
