import Foundation

/// Thresholds for `analyze --ci`, with dive's names and defaults (`lowest-efficiency` 0.9,
/// `highest-user-wasted-percent` 0.1, `highest-wasted-bytes` disabled) plus Slipway's own
/// `max-build-only-percent` (disabled by default). A nil threshold is disabled.
public struct CIThresholds: Sendable, Hashable, Codable {
    public var lowestEfficiency: Double?
    public var highestWastedBytes: Int64?
    public var highestUserWastedPercent: Double?
    /// A fraction (0…1) of the final filesystem's bytes.
    public var maxBuildOnlyPercent: Double?

    public init(lowestEfficiency: Double? = 0.9, highestWastedBytes: Int64? = nil,
                highestUserWastedPercent: Double? = 0.1, maxBuildOnlyPercent: Double? = nil) {
        self.lowestEfficiency = lowestEfficiency
        self.highestWastedBytes = highestWastedBytes
        self.highestUserWastedPercent = highestUserWastedPercent
        self.maxBuildOnlyPercent = maxBuildOnlyPercent
    }
}

extension CIThresholds {
    /// Reads dive's `.dive-ci` file: a `rules:` map with `lowest-efficiency`,
    /// `highest-wasted-bytes`, `highest-user-wasted-percent` (camelCase spellings too) and
    /// Slipway's `max-build-only-percent`; a value `disabled` turns a rule off. Rules the file
    /// does not name keep their current value. Throws on a value that is not a number/size.
    public mutating func apply(diveCI text: String) throws {
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.split(separator: "#", maxSplits: 1).first.map(String.init) ?? ""
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            var value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = String(value.dropFirst().dropLast())
            }
            guard !value.isEmpty else { continue }
            let disabled = value.lowercased() == "disabled"
            func ratio() throws -> Double? {
                if disabled { return nil }
                guard let number = ByteFormat.parseRatio(value) else { throw CIConfigError(key: key, value: value) }
                return number
            }
            switch key.replacingOccurrences(of: "-", with: "") {
            case "lowestefficiency": lowestEfficiency = try ratio()
            case "highestuserwastedpercent": highestUserWastedPercent = try ratio()
            case "maxbuildonlypercent": maxBuildOnlyPercent = try ratio()
            case "highestwastedbytes":
                if disabled {
                    highestWastedBytes = nil
                } else if let bytes = ByteFormat.parse(value) {
                    highestWastedBytes = bytes
                } else {
                    throw CIConfigError(key: key, value: value)
                }
            default: continue
            }
        }
    }
}

/// A `.dive-ci` value that is neither a number, a size nor `disabled`.
public struct CIConfigError: Error, CustomStringConvertible {
    public var key: String
    public var value: String
    public var description: String { "CI rule '\(key)': '\(value)' is not a number, size or 'disabled'" }
}

/// The verdict of one CI rule.
public struct CIResult: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Codable { case pass, fail, skip }
    public var rule: String
    public var status: Status
    public var message: String
}

public enum CIEvaluator {
    /// dive's comparisons: fail when efficiency < lowest, or a "highest" figure is > its limit.
    public static func evaluate(_ analysis: ImageAnalysis, thresholds: CIThresholds) -> [CIResult] {
        let e = analysis.efficiency
        var results: [CIResult] = []
        func add(_ rule: String, _ limit: String?, failed: Bool, _ actual: String) {
            guard let limit else {
                results.append(CIResult(rule: rule, status: .skip, message: "disabled"))
                return
            }
            results.append(CIResult(rule: rule, status: failed ? .fail : .pass,
                                    message: "\(actual) (limit \(limit))"))
        }
        add("lowest-efficiency", thresholds.lowestEfficiency.map { "\($0)" },
            failed: thresholds.lowestEfficiency.map { e.efficiency < $0 } ?? false,
            "efficiency \(e.efficiency)")
        add("highest-wasted-bytes", thresholds.highestWastedBytes.map { ByteFormat.human($0) },
            failed: thresholds.highestWastedBytes.map { e.wastedBytes > $0 } ?? false,
            "wasted \(ByteFormat.human(e.wastedBytes))")
        add("highest-user-wasted-percent", thresholds.highestUserWastedPercent.map { "\($0)" },
            failed: thresholds.highestUserWastedPercent.map { e.wastedUserPercent > $0 } ?? false,
            "user wasted \(e.wastedUserPercent)")
        add("max-build-only-percent", thresholds.maxBuildOnlyPercent.map { "\($0)" },
            failed: thresholds.maxBuildOnlyPercent.map { analysis.buildOnly.fraction > $0 } ?? false,
            "build-only \(analysis.buildOnly.fraction)")
        return results
    }
}
