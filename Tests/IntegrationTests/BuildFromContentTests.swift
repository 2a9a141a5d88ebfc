import Foundation
import Testing
import TestSupport

/// COPY --from, COPY --link --from and RUN --mount from= keyed by the content they select, as
/// BuildKit keys them: a builder stage that re-runs but writes byte-identical files leaves the
/// final stage cached and its image ID unchanged.
@Suite("Build: COPY --from keyed by content", .serialized, .requires(BuildHarness.requirements))
struct BuildFromContentTests {
    static let dockerfile = """
        FROM busybox:latest AS builder
        COPY src.txt /src.txt
        RUN mkdir /out && head -n 1 /src.txt > /out/app && chown 1000:1000 /out/app
        FROM busybox:latest
        COPY --from=builder --chown=1000:1000 /out/app /app
        COPY --link --from=builder /out/ /linked/
        RUN --mount=type=bind,from=builder,source=/out,target=/b cat /b/app > /via-mount
        """

    static func cached(_ r: BuildHarness.Result, _ name: String) -> Bool {
        ExtensionsLinkTests.cached(r, name)
    }

    @Test("an irrelevant edit re-runs the builder but the final stage is CACHED with the same image ID; a real change is not")
    func identicalOutputStaysCached() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("Dockerfile", Self.dockerfile)
        try s.write("src.txt", "payload v1\n# comment A\n")
        let first = try await s.build(["-t", "app:1"])
        #expect(first.status == 0, "\(first.combined)")
        let id1 = BuildSandbox.imageID(first)

        // Only the part the builder drops changes: its RUN re-runs, its output is the same bytes.
        try s.write("src.txt", "payload v1\n# comment B\n")
        let second = try await s.build(["-t", "app:2"])
        #expect(second.status == 0, "\(second.combined)")
        #expect(!Self.cached(second, "RUN mkdir /out"), "the builder re-runs: \(second.stderr)")
        #expect(Self.cached(second, "COPY --from=builder /out/app"), "\(second.stderr)")
        #expect(Self.cached(second, "COPY --link --from=builder"), "\(second.stderr)")
        #expect(Self.cached(second, "RUN cat /b/app"), "\(second.stderr)")
        #expect(BuildSandbox.imageID(second) == id1, "same image ID")

        // A no-change rebuild: everything cached, same ID.
        let third = try await s.build(["-t", "app:3"])
        #expect(third.status == 0 && BuildSandbox.imageID(third) == id1, "\(third.combined)")

        // The copied bytes change: the copies and the RUN after them run again.
        try s.write("src.txt", "payload v2\n# comment B\n")
        let fourth = try await s.build(["-t", "app:4"])
        #expect(fourth.status == 0, "\(fourth.combined)")
        #expect(!Self.cached(fourth, "COPY --from=builder /out/app"), "\(fourth.stderr)")
        #expect(!Self.cached(fourth, "COPY --link --from=builder"), "\(fourth.stderr)")
        #expect(!Self.cached(fourth, "RUN cat /b/app"), "\(fourth.stderr)")
        #expect(BuildSandbox.imageID(fourth) != id1)
        let run = try await s.slipway(["run", "app:4", "cat", "/app", "/linked/app", "/via-mount"])
        #expect(run.status == 0 && run.stdout == "payload v2\npayload v2\npayload v2\n", "\(run.combined)")

        // History as BuildKit writes it: --chown kept, --from and --link left out.
        let history = try await s.slipway(["history", "--no-trunc", "app:4"])
        #expect(history.stdout.contains("COPY --chown=1000:1000 /out/app /app # buildkit"), "\(history.combined)")
        #expect(history.stdout.contains("COPY /out/ /linked/ # buildkit"), "\(history.combined)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }

    @Test("COPY --from of a path the stage lacks fails with the line and the path")
    func missingPath() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("Dockerfile", "FROM busybox:latest AS b\nRUN true\nFROM busybox:latest\nCOPY --from=b /nope /x\n")
        let r = try await s.build([])
        #expect(r.status != 0)
        #expect(r.stderr.contains("Dockerfile:4") && r.stderr.contains("/nope"), "\(r.combined)")
        #expect(!r.stderr.contains("Fatal error"), "\(r.combined)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }
}
