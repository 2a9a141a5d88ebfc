import Foundation
import Testing
import TestSupport

/// FROM an image that is only in a registry: the build pulls it (Debian's docker-registry on
/// 127.0.0.1), and `--pull` refreshes a stored base from its registry.
@Suite("Build: base images from a registry", .serialized, .requires(BuildHarness.requirements + TestRegistry.prerequisites))
struct BuildPullTests {
    @Test("a base image only in the registry is pulled; --pull refreshes it; unreachable registries fail clearly")
    func pullBase() async throws {
        let registry = try await TestRegistry()
        let source = try BuildSandbox()
        try await source.importFixture("busybox", as: "busybox:latest")
        let ref = "\(registry.host)/base/busybox:1"
        let push = try await source.slipway(["push", "busybox:latest", ref])
        #expect(push.status == 0, "\(push.combined)")

        let s = try BuildSandbox()   // an empty store
        try s.write("Dockerfile", "FROM \(ref)\nRUN echo pulled-base-works > /ok\n")
        let r = try await s.build(["-t", "pulled:1"])
        #expect(r.status == 0, "\(r.combined)")
        #expect(r.stderr.contains("pulling \(ref)"), "\(r.stderr)")
        #expect(r.stderr.contains("pulled-base-works"), "\(r.stderr)")

        // --pull fetches again even though the store has it now; the result is the same image.
        let again = try await s.build(["--pull", "-t", "pulled:1"])
        #expect(again.status == 0, "\(again.combined)")
        #expect(again.stderr.contains("pulling \(ref)"), "\(again.stderr)")
        #expect(BuildSandbox.imageID(again) == BuildSandbox.imageID(r))

        try s.write("Dockerfile", "FROM 127.0.0.1:1/nothing/here:1\nRUN true\n")
        let bad = try await s.build([])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("error:"), "\(bad.stderr)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }
}
