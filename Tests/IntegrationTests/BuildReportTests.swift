import Foundation
import Testing
import TestSupport

/// `build --report FILE.html`: the timeline of a real multi-stage build, rendered in headless
/// Chromium; the text summary names the critical path.
@Suite("Build report: timeline and critical path", .serialized, .requires(BuildHarness.requirements + [.chromium]))
struct BuildReportTests {
    @Test func timelinePageRendersWithTheCriticalPath() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        // A chain (prepare → slow → app) beside a stage app also reads (quick): the critical path
        // is the chain whatever the machine's load, since app waits on slow, and slow on prepare.
        try s.write("Dockerfile", """
            FROM busybox AS prepare
            RUN sleep 1 && echo prepared > /prepared
            FROM prepare AS slow
            RUN echo slow > /slow
            FROM busybox AS quick
            RUN echo quick > /quick
            FROM busybox AS app
            COPY --from=quick /quick /quick
            COPY --from=slow /slow /slow

            """)
        let report = s.root + "/report.html"
        let r = try await s.build(["--report", report, "--jobs", "2"])
        #expect(r.status == 0, "\(r.combined)")
        let summary = r.stderr.split(separator: "\n").first { $0.hasPrefix("critical path: ") }.map(String.init) ?? ""
        // app's last input is whichever of slow and quick finished last; slow always comes via prepare.
        #expect(summary.hasPrefix("critical path: prepare → slow → app") || summary.hasPrefix("critical path: quick → app"),
                "\(r.stderr.suffix(400))")
        #expect(summary.contains("up to "), "\(summary)")
        let page = try String(contentsOfFile: report, encoding: .utf8)
        #expect(page.contains("lane critical") && page.contains("RUN sleep 1") && page.contains("id=\"critical-path\""))
        let chromium = try #require(Host.chromium)
        let (bytes, console) = try await HeadlessChromium.render(chromium, page: report, screenshot: s.root + "/report.png")
        #expect(bytes > 10_000, "screenshot: \(bytes) bytes")
        #expect(console.isEmpty, "\(console)")
    }
}
