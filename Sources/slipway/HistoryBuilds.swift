import Build
import Foundation
import OCI

/// `slipway history --builds` and `--compare`: the store's build records as text.
enum HistoryBuilds {
    static func steps(_ r: BuildRecord) -> [ProgressReporter.StepSummary] {
        r.steps.map { step in
            var s = ProgressReporter.StepSummary(step: step.step, name: step.name, status: .init(rawValue: step.status) ?? .ran,
                                                 reason: step.reason, seconds: step.seconds)
            s.layerBytes = step.layerBytes
            s.uncompressedBytes = step.uncompressedBytes
            s.cpuSeconds = step.cpuSeconds
            s.importedFrom = step.importedFrom
            s.cacheSourceKnown = step.cache != nil
            return s
        }
    }

    static func header(_ r: BuildRecord) -> String {
        // FROM resolves a base, it is never cached: not counted.
        let counted = r.steps.filter { !ProgressReporter.instruction($0.name).hasPrefix("FROM ") }
        let ran = counted.filter { $0.status == "RAN" }.count
        let cached = counted.filter { $0.status == "CACHED" }.count
        let imported = counted.filter { $0.cache == "imported" }.count
        let result = r.succeeded ? (r.image.map { "image " + String($0.dropFirst(7).prefix(12)) } ?? "ok") : "FAILED"
        let tags = r.tags.isEmpty ? "" : "  " + r.tags.map { (try? ImageReference(parsing: $0))?.familiar ?? $0 }.joined(separator: ", ")
        return "build \(r.id.prefix(12))  \(StoreFormatting.since(r.started))  \(String(format: "%.1fs", r.seconds))  "
            + "\(result)  \(ran) ran, \(cached) cached\(imported > 0 ? " (\(imported) imported)" : "")\(tags)"
    }

    /// Newest first: a header line per build, then its steps as `build --explain` shows them.
    static func render(_ records: [BuildRecord]) -> String {
        records.map { r in
            header(r) + "\n" + BuildExplainTable.render(steps(r)).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n"
        }.joined(separator: "\n")
    }

    /// Two builds step by step, matched by instruction: status and time in each, and why the
    /// step ran in the second.
    static func compare(_ a: BuildRecord, _ b: BuildRecord) -> String {
        var out = "A: " + header(a) + "\nB: " + header(b) + "\n"
        var rows = [["INSTRUCTION", "A", "B", "WHY B RAN"]]
        var unmatched = a.steps
        for s in b.steps {
            let name = ProgressReporter.instruction(s.name)
            let i = unmatched.firstIndex { ProgressReporter.instruction($0.name) == name }
            let before = i.map { unmatched.remove(at: $0) }
            func cell(_ x: BuildRecord.Step?) -> String {
                guard let x else { return "-" }
                let source = x.status == "CACHED" ? (x.cache == "imported" ? " imported" : x.cache == "local" ? " local" : "") : ""
                let written = x.uncompressedBytes.map { " wrote " + ByteCount.format($0) } ?? ""
                return x.status + source + (x.seconds.map { String(format: " %.1fs", $0) } ?? "") + written
            }
            rows.append([BuildExplainTable.shorten(name, 48), cell(before), cell(s), s.status == "RAN" ? (s.reason ?? "") : ""])
        }
        for s in unmatched { rows.append([BuildExplainTable.shorten(ProgressReporter.instruction(s.name), 48), s.status, "-", "(not in B)"]) }
        let widths = (0..<3).map { c in rows.map { $0[c].count }.max() ?? 0 }
        out += rows.map { row in
            ((0..<3).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "  " + row[3])
                .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }.joined(separator: "\n") + "\n"
        return out
    }
}
