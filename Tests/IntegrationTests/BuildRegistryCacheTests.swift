import Foundation
import Testing
import TestSupport

/// Two machines sharing one registry cache: a build on store A exports its cache
/// (`--cache-to type=registry,...,mode=max`); the same build on an empty store B with
/// `--cache-from` runs no RUN step and produces the same image ID.
@Suite("Build: registry cache between stores", .serialized, .requires(BuildHarness.requirements + TestRegistry.prerequisites))
struct BuildRegistryCacheTests {
    @Test("--cache-to on store A, --cache-from on an empty store B: no RUN executes, same image")
    func twoMachineCache() async throws {
        let registry = try await TestRegistry()
        let base = "\(registry.host)/base/busybox:1"
        let cache = "\(registry.host)/cache/app:main"
        let dockerfile = """
            FROM \(base) AS build
            RUN echo RAN-BUILD-STEP && date +%s%N > /built
            FROM \(base)
            COPY --from=build /built /built
            RUN echo RAN-FINAL-STEP && date +%s%N > /final

            """

        let a = try BuildSandbox()
        try await a.importFixture("busybox", as: "busybox:latest")
        let push = try await a.slipway(["push", "busybox:latest", base])
        try #require(push.status == 0, "\(push.combined)")
        // Both stages start FROM the same registry image, which store A does not have under that
        // name: the two stages' FROM pulls of one reference share one pull.
        try a.write("Dockerfile", dockerfile)
        let first = try await a.build(["-t", "app:1", "--cache-to", "type=registry,ref=\(cache),mode=max"])
        try #require(first.status == 0, "\(first.combined)")
        #expect(ran("RAN-BUILD-STEP", first.combined) && ran("RAN-FINAL-STEP", first.combined), "\(first.combined)")
        let firstID = try #require(BuildSandbox.imageID(first))
        // What the export cost: every layer uploaded the first time, all already there the next.
        #expect(first.stderr.range(of: #"cache to \S+: \d+ records \(max\), [1-9]\d* layers? uploaded \(\d"#, options: .regularExpression) != nil
                && first.stderr.contains(", 0 already there (0 B)"), "\(first.stderr)")
        let reexported = try await a.build(["-t", "app:1", "--cache-to", "type=registry,ref=\(cache),mode=max"])
        try #require(reexported.status == 0, "\(reexported.combined)")
        #expect(reexported.stderr.range(of: #"cache to \S+: \d+ records \(max\), 0 layers uploaded \(0 B\), [1-9]\d* already there"#,
                                        options: .regularExpression) != nil, "\(reexported.stderr)")

        let b = try BuildSandbox()   // another machine: empty store
        try b.write("Dockerfile", dockerfile)
        let pulled = try await b.slipway(["pull", base])
        try #require(pulled.status == 0, "\(pulled.combined)")
        let second = try await b.build(["-t", "app:1", "--cache-from", "type=registry,ref=\(cache)"])
        try #require(second.status == 0, "\(second.combined)")
        // The RUN steps write the time in nanoseconds: had either run, the image would differ.
        #expect(!ran("RAN-BUILD-STEP", second.combined), "\(second.combined)")
        #expect(!ran("RAN-FINAL-STEP", second.combined), "\(second.combined)")
        #expect(second.combined.components(separatedBy: "CACHED").count - 1 >= 3, "\(second.combined)")
        #expect(BuildSandbox.imageID(second) == firstID)

        // A cache that does not exist yet is not an error; a bad spec is.
        let c = try BuildSandbox()
        try await c.importFixture("busybox", as: "busybox:latest")
        try c.write("Dockerfile", "FROM \(base)\nRUN true\n")
        let fresh = try await c.build(["--cache-from", "\(registry.host)/cache/none:1"])
        #expect(fresh.status == 0, "\(fresh.combined)")
        let bad = try await c.build(["--cache-to", "type=inline"])
        #expect(bad.status != 0 && bad.stderr.contains("not supported"), "\(bad.combined)")

        // type=local: the same cache as an OCI layout directory, into yet another empty store.
        let local = c.context + "/cache-dir"
        let exported = try await a.build(["-t", "app:1", "--cache-to", "type=local,dest=\(local),mode=max"])
        try #require(exported.status == 0, "\(exported.combined)")
        let d = try BuildSandbox()
        try d.write("Dockerfile", dockerfile)
        try #require(try await d.slipway(["pull", base]).status == 0)
        let fromLocal = try await d.build(["-t", "app:1", "--cache-from", "type=local,src=\(local)"])
        try #require(fromLocal.status == 0, "\(fromLocal.combined)")
        #expect(!ran("RAN-BUILD-STEP", fromLocal.combined) && !ran("RAN-FINAL-STEP", fromLocal.combined), "\(fromLocal.combined)")
        #expect(BuildSandbox.imageID(fromLocal) == firstID)
        #expect(a.leftovers().isEmpty && b.leftovers().isEmpty, "\(a.leftovers()) \(b.leftovers())")
    }

    /// Whether a step printed `marker` while running (`#3 0.202 RAN-...`), as opposed to the
    /// step header that only shows the command.
    private func ran(_ marker: String, _ output: String) -> Bool {
        output.split(separator: "\n").contains { line in
            let parts = line.split(separator: " ", maxSplits: 2)
            return parts.count == 3 && parts[0].hasPrefix("#") && Double(parts[1]) != nil && parts[2] == marker
        }
    }
}
