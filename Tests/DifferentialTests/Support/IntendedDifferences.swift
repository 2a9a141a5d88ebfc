import Foundation

/// One difference between the two builds (or between Slipway and a case's expected output).
struct Difference: Sendable, CustomStringConvertible {
    /// What differs: `file /etc/passwd content`, `file /x presence`, `config.Env`,
    /// `history[3].created_by`, `history.length`, `build`.
    var field: String
    /// The reference's value: BuildKit 0.8's, or the case's expected.json.
    var reference: String
    var slipway: String

    var description: String { "\(field)\n      reference: \(reference)\n      slipway:   \(slipway)" }
}

/// `IntendedDifferences.json`: every difference the suite accepts, listed once with its reason.
/// Anything a rule does not cover fails its case.
struct DifferenceRules: Sendable {
    struct Rule: Codable, Sendable {
        enum Kind: String, Codable, Sendable {
            /// Slipway differs on purpose (mostly: it follows current BuildKit where 0.8 differs).
            case intended
            /// A Slipway bug, accepted for now so the suite passes; remove the rule with the fix.
            case knownBug = "known-bug"
            /// Content that differs between any two builds (times in files), not a builder difference.
            case volatile
            /// BuildKit 0.8 cannot build these cases: Slipway is compared with their expected.json.
            case unsupportedByBuildKit08 = "buildkit-0.8-unsupported"
        }
        var kind: Kind
        /// Case names (fnmatch patterns; `*` for all).
        var cases: [String]
        /// The difference's field (fnmatch pattern, `*` matches `/` too); not used by
        /// `buildkit-0.8-unsupported` rules.
        var field: String?
        /// Regular expressions the reference's / Slipway's value must contain; absent = any value.
        var reference: String?
        var slipway: String?
        var reason: String

        func applies(toCase name: String) -> Bool {
            cases.contains { fnmatch($0, name, 0) == 0 }
        }

        func covers(_ difference: Difference) -> Bool {
            guard kind != .unsupportedByBuildKit08, let field, fnmatch(field, difference.field, 0) == 0 else { return false }
            func matches(_ pattern: String?, _ value: String) -> Bool {
                guard let pattern else { return true }
                return value.range(of: pattern, options: .regularExpression) != nil
            }
            return matches(reference, difference.reference) && matches(slipway, difference.slipway)
        }

        /// Named explicitly (not through a wildcard): such a rule must still be needed.
        func namesExplicitly(_ name: String) -> Bool { cases.contains(name) }
    }

    var rules: [Rule]

    static func load(_ path: String) throws -> DifferenceRules {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DifferentialError("\(path) is missing")
        }
        do {
            return DifferenceRules(rules: try JSONDecoder().decode([Rule].self, from: data))
        } catch {
            throw DifferentialError("\(path): \(error)")
        }
    }

    /// Whether BuildKit 0.8 is listed as unable to build this case.
    func isUnsupportedByBuildKit08(_ name: String) -> Bool {
        rules.contains { $0.kind == .unsupportedByBuildKit08 && $0.applies(toCase: name) }
    }

    struct Verdict {
        /// Differences no rule covers: each fails the case.
        var unexplained: [Difference]
        /// Rules naming this case explicitly that covered nothing: stale, they must go.
        var stale: [Rule]
        /// Known bugs seen in this case (reported, not failed).
        var knownBugs: [(Rule, Difference)]
    }

    func judge(_ differences: [Difference], inCase name: String) -> Verdict {
        let applicable = rules.filter { $0.applies(toCase: name) && $0.kind != .unsupportedByBuildKit08 }
        var used = Set<Int>()
        var verdict = Verdict(unexplained: [], stale: [], knownBugs: [])
        for difference in differences {
            if let index = applicable.indices.first(where: { applicable[$0].covers(difference) }) {
                used.insert(index)
                if applicable[index].kind == .knownBug { verdict.knownBugs.append((applicable[index], difference)) }
            } else {
                verdict.unexplained.append(difference)
            }
        }
        verdict.stale = applicable.indices.filter { !used.contains($0) && applicable[$0].namesExplicitly(name) }
            .map { applicable[$0] }
        return verdict
    }
}
