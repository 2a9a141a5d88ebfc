import Foundation

extension BuildTimeline {
    /// One self-contained page (no script, nothing fetched): a Gantt chart of the stages and
    /// their steps as inline SVG, the critical path's stages marked, and the summary.
    public func renderHTML(title: String) -> String {
        let laneHeight = 26.0, barHeight = 18.0, left = 170.0, width = 900.0
        let scale = totalSeconds > 0 ? width / totalSeconds : 1
        let critical = Set(criticalPath)
        var svg: [String] = []
        let height = Double(stages.count) * laneHeight + 40
        svg.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(left + width + 20))\" height=\"\(Int(height))\" role=\"img\">")
        // Time axis: five ticks.
        for i in 0...5 {
            let t = totalSeconds * Double(i) / 5
            let x = left + t * scale
            svg.append("<line x1=\"\(f(x))\" y1=\"0\" x2=\"\(f(x))\" y2=\"\(f(height - 20))\" class=\"tick\"/>")
            svg.append("<text x=\"\(f(x))\" y=\"\(f(height - 6))\" class=\"axis\">\(String(format: "%.1fs", t))</text>")
        }
        for (lane, span) in stages.enumerated() {
            let y = Double(lane) * laneHeight + 4
            let cls = critical.contains(span.stage) ? "lane critical" : "lane"
            svg.append("<text x=\"4\" y=\"\(f(y + barHeight - 4))\" class=\"label\">\(escape(span.stage))</text>")
            svg.append("<rect x=\"\(f(left + span.start * scale))\" y=\"\(f(y - 2))\" width=\"\(f(max(2, span.seconds * scale)))\" height=\"\(f(barHeight + 4))\" class=\"\(cls)\"><title>\(escape(span.stage)): \(String(format: "%.2f s", span.seconds))</title></rect>")
            for bar in bars where bar.stage == span.stage {
                let x = left + bar.start * scale
                let w = max(2, (bar.end - bar.start) * scale)
                let kind = bar.status == .cached ? "cached" : bar.status == .failed ? "failed" : "ran"
                svg.append("<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(w))\" height=\"\(f(barHeight))\" class=\"step \(kind)\"><title>#\(bar.step) \(escape(bar.instruction)) — \(kind), \(String(format: "%.2f s", bar.end - bar.start))</title></rect>")
            }
        }
        svg.append("</svg>")
        var rows = ""
        for bar in bars {
            rows += "<tr><td>#\(bar.step)</td><td>\(escape(bar.stage))</td><td>\(bar.status.rawValue)</td>"
                + "<td>\(String(format: "%.2f", bar.start))</td><td>\(String(format: "%.2f", bar.end - bar.start))</td><td><code>\(escape(bar.instruction))</code></td></tr>\n"
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>
            body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
            .summary { font-weight: 600; margin: 12px 0 20px; }
            .tick { stroke: #ddd; } .axis { font-size: 11px; fill: #666; text-anchor: middle; }
            .label { font-size: 12px; fill: #333; }
            .lane { fill: #f1f3f5; } .lane.critical { fill: #ffe3e3; stroke: #e03131; stroke-width: 2; }
            .step.ran { fill: #1c7ed6; } .step.cached { fill: #adb5bd; } .step.failed { fill: #e03131; }
            table { border-collapse: collapse; margin-top: 20px; } td, th { padding: 2px 10px; border-bottom: 1px solid #eee; text-align: left; }
            </style></head><body>
            <h1>\(escape(title))</h1>
            <p class="summary" id="critical-path">\(escape(summary))</p>
            \(svg.joined(separator: "\n"))
            <table><thead><tr><th>step</th><th>stage</th><th>status</th><th>start (s)</th><th>time (s)</th><th>instruction</th></tr></thead>
            <tbody>
            \(rows)</tbody></table>
            </body></html>

            """
    }

    private func f(_ x: Double) -> String { String(format: "%.1f", x) }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
