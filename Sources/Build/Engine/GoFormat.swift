import Dockerfile
import Foundation

/// Reproduces the few Go `fmt` verbs BuildKit uses in history `created_by` strings, so images
/// built by Slipway read the same in `history` as images built by BuildKit.
enum GoFormat {
    /// `%q` of a `[]string`: `["a" "b"]`.
    static func quotedList(_ items: [String]) -> String {
        "[" + items.map(quote).joined(separator: " ") + "]"
    }

    /// `%v` of a `[]string`: `[a b]`.
    static func plainList(_ items: [String]) -> String {
        "[" + items.joined(separator: " ") + "]"
    }

    /// Go's strconv.Quote (the Dockerfile module's, used for AST dumps too).
    static func quote(_ s: String) -> String { GoQuote.quote(s) }

    /// Go's time.Duration.String for a nanosecond count.
    static func duration(_ ns: Int64) -> String {
        if ns == 0 { return "0s" }
        var n = ns
        var sign = ""
        if n < 0 { sign = "-"; n = -n }
        if n < 1_000_000_000 {
            if n < 1000 { return sign + "\(n)ns" }
            if n < 1_000_000 { return sign + trim(Double(n) / 1000) + "µs" }
            return sign + trim(Double(n) / 1_000_000) + "ms"
        }
        let h = n / 3_600_000_000_000
        let m = (n / 60_000_000_000) % 60
        let s = Double(n % 60_000_000_000) / 1e9
        var out = sign
        if h > 0 { out += "\(h)h" }
        if h > 0 || m > 0 { out += "\(m)m" }
        return out + trim(s) + "s"
    }

    private static func trim(_ d: Double) -> String {
        var s = String(format: "%.9f", d)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    /// `%+v` of BuildKit's HealthcheckConfig.
    static func healthcheck(_ h: StageHealthcheck) -> String {
        "{Test:\(plainList(h.test)) Interval:\(duration(h.interval)) Timeout:\(duration(h.timeout)) "
            + "StartPeriod:\(duration(h.startPeriod)) StartInterval:\(duration(h.startInterval)) Retries:\(h.retries)}"
    }
}
