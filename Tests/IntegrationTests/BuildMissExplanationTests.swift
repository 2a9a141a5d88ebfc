import Foundation
import Testing
import TestSupport

/// Issue 12: a step that runs instead of hitting the cache says why, naming the first input that
/// differs from the last run of the same step — in plain progress and in `--progress json`.
@Suite("Build: cache-miss explanations", .serialized, .requires(BuildHarness.requirements))
struct BuildMissExplanationTests {
    static func misses(_ r: BuildHarness.Result) -> [String] {
        r.stderr.split(separator: "\n").filter { $0.contains(" MISS: ") }.map { String($0) }
    }

    @Test func missLinesNameTheChangedInput() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox")
        try s.write("Dockerfile", "FROM busybox\nARG MODE=dev\nCOPY a.txt b.txt /app/\nRUN echo $MODE > /mode\n")
        try s.write("a.txt", "one\n")
        try s.write("b.txt", "two\n")
        let first = try await s.build(["-t", "miss:1"])
        try #require(first.status == 0, "\(first.combined)")
        #expect(Self.misses(first).first?.hasSuffix("COPY a.txt b.txt /app/ — no earlier record of this step") == true, "\(Self.misses(first))")

        try s.write("a.txt", "one, edited\n")
        let edited = try await s.build(["-t", "miss:1"])
        try #require(edited.status == 0, "\(edited.combined)")
        let m = Self.misses(edited)
        #expect(m.count == 2, "\(m)")
        #expect(m.first?.hasSuffix("COPY a.txt b.txt /app/ — a.txt changed (2 files in the selection, 1 changed: 4 → 12 bytes)") == true, "\(m)")
        #expect(m.last?.hasSuffix("RUN echo $MODE > /mode — parent step #2 missed") == true, "\(m)")

        let arg = try await s.build(["-t", "miss:1", "--build-arg", "MODE=prod"])
        try #require(arg.status == 0, "\(arg.combined)")
        #expect(Self.misses(arg).last?.hasSuffix("build arg MODE changed (dev → prod)") == true, "\(Self.misses(arg))")

        let same = try await s.build(["-t", "miss:1", "--build-arg", "MODE=prod"])
        #expect(Self.misses(same).isEmpty, "\(Self.misses(same))")

        let json = try await s.slipway(["build", "--progress", "json", "--no-cache", "-t", "miss:1", "--build-arg", "MODE=prod", s.context])
        let reasons = BuildSandbox.events(json).filter { $0["event"] as? String == "miss" }.compactMap { $0["reason"] as? String }
        #expect(reasons == ["--no-cache", "--no-cache"], "\(json.stderr)")
    }

    @Test func aNewBaseImageIsNamedWithBothDigests() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "base:1")
        try s.write("Dockerfile", "FROM base:1\nRUN echo hi > /hi\n")
        let first = try await s.build([])
        try #require(first.status == 0, "\(first.combined)")
        // Another image under the same name: busybox with one more layer.
        try s.write("Dockerfile.next", "FROM base:1\nRUN echo next > /next\n")
        let next = try await s.slipway(["build", "--progress", "plain", "-t", "base:1", "-f", s.context + "/Dockerfile.next", s.context])
        try #require(next.status == 0, "\(next.combined)")
        let again = try await s.build([])
        try #require(again.status == 0, "\(again.combined)")
        let line = Self.misses(again).first ?? ""
        #expect(line.contains("RUN echo hi > /hi — base image base:1 now sha256:"), "\(again.stderr)")
        #expect(line.contains(", was sha256:"), "\(line)")
    }

    @Test func explainPrintsATableOfEveryStep() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox")
        try s.write("Dockerfile", "FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b\n")
        try s.write("a.txt", "1\n")
        try #require(try await s.build(["-t", "explain:1"]).status == 0)
        try s.write("a.txt", "22\n")
        let r = try await s.build(["-t", "explain:1", "--explain"])
        try #require(r.status == 0, "\(r.combined)")
        let lines = r.stderr.split(separator: "\n").map(String.init)
        let header = try #require(lines.firstIndex { $0.hasPrefix("STEP  STATUS  CACHE  TIME") }, "\(r.stderr)")
        let rows = lines[(header + 1)...].prefix(3).map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.count == 3)
        #expect(rows.map { $0[1] } == ["RAN", "RAN", "RAN"], "\(rows)")
        #expect(lines[header + 2].contains("COPY a.txt /a.txt") && lines[header + 2].hasSuffix("a.txt changed (1 file in the selection, 1 changed: 2 → 3 bytes)"), "\(lines[header + 2])")
        #expect(lines[header + 3].hasSuffix("parent step #2 missed"), "\(lines[header + 3])")
        // The LAYER column: each filesystem step's compressed layer size; FROM has none.
        #expect(lines[header].contains("LAYER"))
        #expect(lines[header].contains("CPU"))
        #expect(rows[0][5] == "-" && rows[1][5...6].joined(separator: " ").hasSuffix(" B"), "\(rows)")
        #expect(rows[1][4] == "-" && rows[2][4].hasSuffix("s"), "CPU time only for the RUN: \(rows)")
        let again = try await s.build(["-t", "explain:1", "--explain"])
        #expect(again.stderr.contains("#3    CACHED"), "\(again.stderr)")
    }

    /// The CPU time of a RUN's processes (runc reaps them: `wait4` on runc counts them all).
    @Test func cpuTimeOfARunStep() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox")
        try s.write("Dockerfile", "FROM busybox\nRUN i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; echo $i > /n\n")
        let meta = s.root + "/meta.json"
        let r = try await s.build(["--metadata-file", meta])
        try #require(r.status == 0, "\(r.combined)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: meta))) as? [String: Any])
        let steps = try #require(object["slipway.steps"] as? [[String: Any]])
        let run = try #require(steps.first { ($0["name"] as? String)?.contains("RUN i=0") == true })
        let cpu = try #require(run["cpuSeconds"] as? Double, "\(run)")
        let wall = try #require(run["seconds"] as? Double)
        #expect(cpu > 0.1 && cpu <= wall * Double(ProcessInfo.processInfo.activeProcessorCount) + 0.1, "cpu \(cpu) s, wall \(wall) s")
        #expect(steps.first { ($0["name"] as? String)?.contains("FROM") == true }?["cpuSeconds"] == nil)
    }
}
