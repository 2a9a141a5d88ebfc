import Build
import OCI

/// `slipway build --explain`: after the build, one row per step — cached or ran, its wall time,
/// the instruction and, for a step that ran, why it missed the cache (`MissExplainer`).
enum BuildExplainTable {
    static func render(_ steps: [ProgressReporter.StepSummary]) -> String {
        var rows = [["STEP", "STATUS", "TIME", "CPU", "LAYER", "INSTRUCTION", "WHY IT RAN"]]
        for s in steps {
            let time = s.seconds.map { String(format: "%.1fs", $0) } ?? "-"
            let instruction = ProgressReporter.instruction(s.name)
            let why = s.reason ?? (instruction.hasPrefix("FROM ") ? "(the base: resolved, never cached)" : "")
            let cpu = s.cpuSeconds.map { String(format: "%.1fs", $0) } ?? "-"
            rows.append(["#\(s.step)", s.status.rawValue, time, cpu, s.layerBytes.map { ByteCount.format($0) } ?? "-", shorten(instruction, 48), why])
        }
        let widths = (0..<6).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            (0..<6).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                + "  " + row[6]
        }.map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }.joined(separator: "\n") + "\n"
    }

    static func shorten(_ s: String, _ n: Int) -> String {
        s.count > n ? String(s.prefix(n - 1)) + "…" : s
    }
}
