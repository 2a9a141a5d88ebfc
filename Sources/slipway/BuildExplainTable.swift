import Build
import OCI

/// `slipway build --explain`: after the build, one row per step — cached or ran, where a hit
/// came from (`local` cache, `imported` by `--cache-from`), its wall time, a RUN's CPU time, its
/// layer's compressed size and the bytes it wrote (uncompressed), the instruction and, for a
/// step that ran, why it missed the cache (`MissExplainer`; for an imported hit, the cache).
enum BuildExplainTable {
    static func render(_ steps: [ProgressReporter.StepSummary]) -> String {
        var rows = [["STEP", "STATUS", "CACHE", "TIME", "CPU", "LAYER", "WRITTEN", "INSTRUCTION", "WHY IT RAN"]]
        for s in steps {
            let time = s.seconds.map { String(format: "%.1fs", $0) } ?? "-"
            let instruction = ProgressReporter.instruction(s.name)
            let why = s.reason ?? s.importedFrom.map { "(imported from \($0))" }
                ?? (instruction.hasPrefix("FROM ") ? "(the base: resolved, never cached)" : "")
            let cpu = s.cpuSeconds.map { String(format: "%.1fs", $0) } ?? "-"
            let cache = s.cacheSource ?? "-"
            rows.append(["#\(s.step)", s.status.rawValue, cache, time, cpu, s.layerBytes.map { ByteCount.format($0) } ?? "-",
                         s.uncompressedBytes.map { ByteCount.format($0) } ?? "-", shorten(instruction, 48), why])
        }
        let last = rows[0].count - 1
        let widths = (0..<last).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            (0..<last).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                + "  " + row[last]
        }.map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }.joined(separator: "\n") + "\n"
    }

    static func shorten(_ s: String, _ n: Int) -> String {
        s.count > n ? String(s.prefix(n - 1)) + "…" : s
    }
}
