import Foundation
import Testing

/// `analyze` on a single-stage image predicts what the multi-stage rewrite saves; `compare`
/// measures the real difference between the two images built by `slipway build`. The
/// prediction must be within 15 % of the real difference.
@Suite("Inspect: analyze predicts the multi-stage saving", .serialized)
struct InspectPredictionTests {
    struct Measured {
        var predicted: Int64
        var real: Int64
        var report: String
    }

    /// Builds both variants, then reads `analyze --format json` and `compare --format json`.
    func measure(_ s: BuildSandbox, single: String, multi: String) throws -> Measured? {
        try s.write("Dockerfile.single", single)
        try s.write("Dockerfile.multi", multi)
        let a = try s.build(["-f", s.context + "/Dockerfile.single", "-t", "app:single"])
        #expect(a.status == 0, "\(a.combined)")
        let b = try s.build(["-f", s.context + "/Dockerfile.multi", "-t", "app:multi"])
        #expect(b.status == 0, "\(b.combined)")
        guard a.status == 0, b.status == 0 else { return nil }

        let analyze = try s.slipway(["analyze", "--format", "json", "app:single"])
        #expect(analyze.status == 0, "\(analyze.combined)")
        let compare = try s.slipway(["compare", "--format", "json", "app:single", "app:multi"])
        #expect(compare.status == 0, "\(compare.combined)")
        let analysis = try JSONSerialization.jsonObject(with: Data(analyze.stdout.utf8)) as? [String: Any]
        let buildOnly = (analysis?["analysis"] as? [String: Any])?["buildOnly"] as? [String: Any]
        let comparison = try JSONSerialization.jsonObject(with: Data(compare.stdout.utf8)) as? [String: Any]
        guard let predicted = (buildOnly?["predictedSaving"] as? NSNumber)?.int64Value,
              let sizeA = ((comparison?["a"] as? [String: Any])?["size"] as? NSNumber)?.int64Value,
              let sizeB = ((comparison?["b"] as? [String: Any])?["size"] as? NSNumber)?.int64Value else {
            Issue.record("unexpected JSON: \(analyze.stdout.prefix(400)) \(compare.stdout.prefix(400))")
            return nil
        }
        let text = try s.slipway(["analyze", "app:single"]).stdout
        return Measured(predicted: predicted, real: sizeA - sizeB, report: text)
    }

    @Test("Go: single-stage on the Go SDK image vs the article's FROM scratch build")
    func goPrediction() throws {
        if let why = BuildHarness.skipReason { print("skipping: \(why)"); return }
        let s = try BuildSandbox()
        try s.importFixture("debian-go", as: "golang:1.22-bookworm")
        try s.write("go.mod", "module example.com/server\n\ngo 1.19\n")
        try s.write("go.sum", "")
        try s.write("cmd/server/main.go", BuildExamplesTests.goServer)
        try s.write(".dockerignore", "Dockerfile*\n")
        guard let m = try measure(s, single: BuildExamplesTests.goSingleStage, multi: BuildExamplesTests.goDockerfile) else { return }
        let error = abs(Double(m.predicted - m.real)) / Double(max(1, m.real))
        print("Go: predicted saving \(m.predicted) bytes, real \(m.real) bytes, error \(String(format: "%.1f", error * 100)) %")
        #expect(m.real > 0)
        #expect(error <= 0.15, "predicted \(m.predicted), real \(m.real)\n\(m.report)")
        #expect(m.report.contains("a static binary"), "\(m.report)")
    }
}
