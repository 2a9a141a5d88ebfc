import Foundation

/// A finished build as a timeline: each step as a bar on its stage's lane, each stage's span,
/// the critical path through the stage graph (the chain of stages the build waited on), and the
/// parallelism it reached. `summary` is the line `build` prints; `renderHTML` the page
/// `build --report` writes.
public struct BuildTimeline: Sendable {
    public struct Bar: Sendable, Equatable {
        public var step: Int
        public var stage: String
        public var instruction: String
        public var status: ProgressReporter.StepSummary.Status
        public var start: Double
        public var end: Double
    }

    public struct Span: Sendable, Equatable {
        public var stage: String
        public var start: Double
        public var end: Double
        public var seconds: Double { end - start }
    }

    public var bars: [Bar]
    /// Stages in the order they first appear.
    public var stages: [Span]
    /// Stage names from the first the build waited on to the final stage.
    public var criticalPath: [String]
    /// Wall time along the critical path, and of the whole build.
    public var criticalSeconds: Double
    public var totalSeconds: Double
    /// The most steps that ran at the same time.
    public var parallelism: Int

    /// `dependencies`: for each stage name, the stages it reads (its base stage, `COPY --from`,
    /// `--mount from=`); `finalStage`: the stage that was built.
    public init(steps: [ProgressReporter.StepSummary], totalSeconds: Double, finalStage: String, dependencies: [String: [String]]) {
        bars = steps.map { s in
            let start = s.start ?? 0
            return Bar(step: s.step, stage: Self.stage(of: s.name, final: finalStage), instruction: ProgressReporter.instruction(s.name),
                       status: s.status, start: start, end: start + (s.seconds ?? 0))
        }
        var spans: [Span] = []
        for bar in bars {
            if let i = spans.firstIndex(where: { $0.stage == bar.stage }) {
                spans[i].start = min(spans[i].start, bar.start)
                spans[i].end = max(spans[i].end, bar.end)
            } else {
                spans.append(Span(stage: bar.stage, start: bar.start, end: bar.end))
            }
        }
        stages = spans
        self.totalSeconds = max(totalSeconds, spans.map(\.end).max() ?? 0)
        // Walk back from the final stage through the dependency that finished last.
        var path = [finalStage]
        var seen: Set<String> = [finalStage]
        while let deps = dependencies[path[0]],
              let next = deps.filter({ !seen.contains($0) }).compactMap({ d in spans.first { $0.stage == d } }).max(by: { $0.end < $1.end }) {
            path.insert(next.stage, at: 0)
            seen.insert(next.stage)
        }
        criticalPath = path
        let first = spans.first { $0.stage == path[0] }?.start ?? 0
        let last = spans.first { $0.stage == finalStage }?.end ?? self.totalSeconds
        criticalSeconds = max(0, last - first)
        // The most RAN steps open at one instant (ends before starts at the same time).
        var events: [(time: Double, delta: Int)] = []
        for bar in bars where bar.status != .cached && bar.end > bar.start {
            events.append((bar.start, 1))
            events.append((bar.end, -1))
        }
        events.sort { a, b in a.time == b.time ? a.delta < b.delta : a.time < b.time }
        var open = 0
        var most = 0
        for e in events {
            open += e.delta
            most = max(most, open)
        }
        parallelism = max(most, bars.isEmpty ? 0 : 1)
    }

    /// `[builder 2/5] RUN …` → `builder`; a step label without a stage name is the final stage.
    static func stage(of name: String, final: String) -> String {
        guard name.hasPrefix("["), let close = name.firstIndex(of: "]") else { return final }
        let inside = name[name.index(after: name.startIndex)..<close]
        let words = inside.split(separator: " ")
        if words.count >= 2 { return words.dropLast().joined(separator: " ") }
        return final
    }

    /// `critical path: builder → production, 41.2 s of 44.0 s; up to 2 steps at once`.
    public var summary: String {
        String(format: "critical path: %@, %.1f s of %.1f s; up to %d step%@ at once",
               criticalPath.joined(separator: " → "), criticalSeconds, totalSeconds, parallelism, parallelism == 1 ? "" : "s")
    }
}
