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
        try s.write("Dockerfile", """
            FROM busybox AS slow
            RUN sleep 1.5 && echo slow > /slow
            FROM busybox AS quick
            RUN echo quick > /quick
            FROM busybox AS app
            COPY --from=slow /slow /slow
            COPY --from=quick /quick /quick

            """)
        let report = s.root + "/report.html"
        let r = try await s.build(["--report", report, "--jobs", "2"])
        #expect(r.status == 0, "\(r.combined)")
        #expect(r.stderr.contains("critical path: slow → app"), "\(r.stderr.suffix(400))")
        let page = try String(contentsOfFile: report, encoding: .utf8)
        #expect(page.contains("lane critical") && page.contains("RUN sleep 1.5") && page.contains("id=\"critical-path\""))
        let chromium = try #require(Host.chromium)
        let (bytes, console) = try await HeadlessChromium.render(chromium, page: report, screenshot: s.root + "/report.png")
        #expect(bytes > 10_000, "screenshot: \(bytes) bytes")
        #expect(console.isEmpty, "\(console)")
    }
}
