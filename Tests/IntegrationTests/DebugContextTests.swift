import Foundation
import Testing
import TestSupport

/// `slipway debug context` hashes a context through the same ignore file a build would use.
@Suite(.requires(.slipwayBinary)) struct DebugContextTests {
    @Test func usesTheDockerfileSpecificIgnoreFile() async throws {
        let bin = Fixtures.slipwayBinary
        let dir = try Fixtures.scratch("debug-context")
        defer { Fixtures.removeScratch(dir) }
        for (name, text) in [("a.txt", "a\n"), ("b.txt", "b\n"), ("app.Dockerfile", "FROM scratch\n"),
                             ("app.Dockerfile.dockerignore", "b.txt\n"), (".dockerignore", "a.txt\n")] {
            try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        }
        func digest(_ extra: [String]) async throws -> String {
            let r = try await Fixtures.run(bin, ["debug", "context", "--repeat", "1"] + extra + [dir, "a.txt", "b.txt"])
            return r.status == 0 ? r.stdout : "exit \(r.status): \(r.stderr)"
        }
        // Plain build: .dockerignore hides a.txt, so naming it fails; with -f app.Dockerfile its own
        // ignore file hides b.txt instead.
        #expect(try await digest([]).contains("a.txt"))
        let specific = try await digest(["-f", dir + "/app.Dockerfile"])
        #expect(specific.contains("b.txt") && specific.hasPrefix("exit"), "\(specific)")
        let onlyA = try await Fixtures.run(bin, ["debug", "context", "--repeat", "1", "-f", dir + "/app.Dockerfile", dir, "a.txt"])
        #expect(onlyA.status == 0 && onlyA.stdout.contains("sha256:"), "\(onlyA.stderr)")
    }
}
