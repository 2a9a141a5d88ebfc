import Foundation
import Testing
@testable import Build

@Suite("Build timeline: critical path and parallelism")
struct BuildTimelineTests {
    typealias S = ProgressReporter.StepSummary

    @Test func criticalPathFollowsTheDependencyThatFinishedLast() {
        // deps (1.0–3.0) and assets (1.0–1.5) run side by side; app reads both.
        let steps = [
            S(step: 1, name: "[deps 1/2] FROM base", status: .ran, seconds: 0.1, start: 0.9),
            S(step: 2, name: "[deps 2/2] RUN make deps", status: .ran, seconds: 2.0, start: 1.0),
            S(step: 3, name: "[assets 1/2] FROM base", status: .ran, seconds: 0.1, start: 0.9),
            S(step: 4, name: "[assets 2/2] RUN make assets", status: .cached, start: 1.0),
            S(step: 5, name: "[assets 2/2] RUN make more", status: .ran, seconds: 0.5, start: 1.0),
            S(step: 6, name: "[app 2/3] COPY --from=deps /d /d", status: .ran, seconds: 0.5, start: 3.0),
            S(step: 7, name: "[app 3/3] COPY --from=assets /a /a", status: .ran, seconds: 0.5, start: 3.5),
        ]
        let t = BuildTimeline(steps: steps, totalSeconds: 4.2, finalStage: "app",
                              dependencies: ["app": ["deps", "assets"], "deps": [], "assets": []])
        #expect(t.criticalPath == ["deps", "app"])
        #expect(abs(t.criticalSeconds - 3.1) < 0.001)
        #expect(t.parallelism == 2)
        #expect(t.stages.map(\.stage) == ["deps", "assets", "app"])
        #expect(t.summary == "critical path: deps → app, 3.1 s of 4.2 s; up to 2 steps at once")
        let html = t.renderHTML(title: "t")
        #expect(html.contains("lane critical") && !html.contains("<script"))
        #expect(html.contains("RUN make deps"))
    }

    @Test func singleStageStepsBelongToTheFinalStage() {
        let t = BuildTimeline(steps: [S(step: 1, name: "[1/2] FROM busybox", status: .ran, seconds: 0, start: 0),
                                      S(step: 2, name: "[2/2] RUN true", status: .ran, seconds: 1, start: 0.1)],
                              totalSeconds: 1.2, finalStage: "stage-0", dependencies: ["stage-0": []])
        #expect(t.stages.map(\.stage) == ["stage-0"])
        #expect(t.criticalPath == ["stage-0"])
        #expect(t.parallelism == 1)
    }
}
