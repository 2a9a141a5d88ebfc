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
