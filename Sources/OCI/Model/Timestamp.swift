import Foundation

/// RFC 3339 timestamps as image configs and history carry them.
///
/// Hand-written rather than `ISO8601DateFormatter`: that one goes through ICU, and parsing a
/// base image's `created` on every build cost ~1.5 ms of a ~20 ms no-change rebuild.
public enum Timestamp {
    /// Formats a date as UTC RFC 3339 with whole seconds (`2025-01-26T21:54:00Z`), as BuildKit
    /// does with SOURCE_DATE_EPOCH. Fractions are dropped (rounded down).
    public static func format(_ date: Date) -> String {
        let total = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = total >= 0 ? total / 86_400 : (total - 86_399) / 86_400
        let secs = total - days * 86_400
        let (y, m, d) = civil(fromDays: days)
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T" + pad(secs / 3600, 2) + ":"
            + pad(secs / 60 % 60, 2) + ":" + pad(secs % 60, 2) + "Z"
    }

    /// Parses RFC 3339 (`2024-05-01T10:00:00Z`, `...T10:00:00.123456789+02:00`, lowercase `t`/`z`,
    /// or a space between date and time) with a fraction of any length; nil for anything else.
    public static func parse(_ s: String) -> Date? {
        var p = Scanner(Array(s.utf8))
        guard let y = p.digits(4), p.take(UInt8(ascii: "-")), let mo = p.digits(2), p.take(UInt8(ascii: "-")),
              let d = p.digits(2), p.takeAny("Tt "), let h = p.digits(2), p.take(UInt8(ascii: ":")),
              let mi = p.digits(2), p.take(UInt8(ascii: ":")), let se = p.digits(2),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, se <= 60 else { return nil }
        var fraction = 0.0
        if p.take(UInt8(ascii: ".")) {
            var scale = 0.1
            var any = false
            while let digit = p.digit() {
                fraction += Double(digit) * scale
                scale /= 10
                any = true
            }
            guard any else { return nil }
        }
        var offset: Int64 = 0
        if !p.takeAny("Zz") {
            guard let sign = p.next(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"),
                  let oh = p.digits(2), p.take(UInt8(ascii: ":")), let om = p.digits(2), oh < 24, om < 60 else { return nil }
            offset = Int64(oh * 3600 + om * 60) * (sign == UInt8(ascii: "-") ? -1 : 1)
        }
        guard p.atEnd else { return nil }
        let seconds = days(fromCivil: Int64(y), Int64(mo), Int64(d)) * 86_400
            + Int64(h * 3600 + mi * 60 + se) - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func days(fromCivil y: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y - 1 : y
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The inverse of `days(fromCivil:)`.
    static func civil(fromDays z: Int64) -> (Int64, Int64, Int64) {
        let z = z + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    private static func pad(_ n: Int64, _ width: Int) -> String {
        let text = String(n)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    /// A cursor over the bytes of a timestamp.
    private struct Scanner {
        let bytes: [UInt8]
        var i = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        var atEnd: Bool { i == bytes.count }
        mutating func next() -> UInt8? {
            guard i < bytes.count else { return nil }
            defer { i += 1 }
            return bytes[i]
        }
        mutating func take(_ b: UInt8) -> Bool {
            guard i < bytes.count, bytes[i] == b else { return false }
            i += 1
            return true
        }
        mutating func takeAny(_ set: String) -> Bool {
            guard i < bytes.count, set.utf8.contains(bytes[i]) else { return false }
            i += 1
            return true
        }
        mutating func digit() -> Int? {
            guard i < bytes.count, (48...57).contains(bytes[i]) else { return nil }
            defer { i += 1 }
            return Int(bytes[i] - 48)
        }
        mutating func digits(_ n: Int) -> Int? {
            var v = 0
            for _ in 0..<n {
                guard let d = digit() else { return nil }
                v = v * 10 + d
            }
            return v
        }
    }
}
