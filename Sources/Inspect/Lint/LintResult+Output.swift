import Foundation
import OCI

extension LintResult {
    /// `file:line Rule: message` lines, then a one-line summary.
    public func renderText() -> String {
        var out = ""
        for finding in findings {
            out += "\(DisplayText.escaped(finding.file)):\(finding.line) \(finding.rule): \(DisplayText.escaped(finding.message)) [\(finding.level.rawValue)]\n"
        }
        let errors = findings.filter { $0.level == .error }.count
        let warnings = findings.filter { $0.level == .warning }.count
        let infos = findings.count - errors - warnings
        out += findings.isEmpty ? "\(file): no problems found\n"
            : "\(file): \(errors) error(s), \(warnings) warning(s), \(infos) info\n"
        return out
    }

    /// Pretty JSON of the findings.
    public func renderJSON() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// SARIF 2.1.0, one run, the rules that fired described in `tool.driver.rules`.
    public func renderSARIF() throws -> String {
        var rules: [[String: Any]] = []
        var ruleIndex: [String: Int] = [:]
        for finding in findings where ruleIndex[finding.rule] == nil {
            let rule = LintRule.all.first { $0.name == finding.rule }
            ruleIndex[finding.rule] = rules.count
            rules.append([
                "id": finding.rule,
                "shortDescription": ["text": rule?.description ?? finding.rule],
                "helpUri": finding.url,
                "defaultConfiguration": ["level": Self.sarifLevel(rule?.level ?? finding.level)],
            ])
        }
        let results: [[String: Any]] = findings.map { finding in
            [
                "ruleId": finding.rule,
                "ruleIndex": ruleIndex[finding.rule] ?? 0,
                "level": Self.sarifLevel(finding.level),
                "message": ["text": finding.message],
                "locations": [[
                    "physicalLocation": [
                        "artifactLocation": ["uri": finding.file],
                        "region": ["startLine": finding.line, "endLine": finding.endLine],
                    ],
                ]],
            ]
        }
        let document: [String: Any] = [
            "version": "2.1.0",
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "runs": [[
                "tool": ["driver": ["name": "slipway lint", "informationUri": "https://github.com/slipway/slipway",
                                    "rules": rules]],
                "results": results,
            ]],
        ]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func sarifLevel(_ level: LintLevel) -> String {
        switch level {
        case .error: return "error"
        case .warning: return "warning"
        case .info: return "note"
        }
    }
}
