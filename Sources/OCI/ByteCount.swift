import Foundation

/// Human-readable byte sizes (decimal units, as docker prints them): the one formatter of
/// progress lines, pull/push summaries and build results.
public enum ByteCount {
    public static func format(_ n: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var v = Double(n)
        var i = 0
        while v >= 1000, i < units.count - 1 { v /= 1000; i += 1 }
        return i == 0 ? "\(n) B" : String(format: v >= 100 ? "%.0f %@" : "%.1f %@", v, units[i])
    }

    /// Docker's `units.RAMInBytes`: `512`, `100k`, `1.5GB`, `2g`, `10MiB` — binary units (k = 1024),
    /// case-insensitive. nil when malformed.
    public static func parse(_ text: String) -> Int64? {
        var s = Substring(text.lowercased().trimmingCharacters(in: .whitespaces))
        var number = ""
        while let c = s.first, c.isASCII, c.isNumber || c == "." { number.append(c); s = s.dropFirst() }
        if s.first == " " { s = s.dropFirst() }
        var scale: Double = 1
        if let u = s.first, let i = "kmgtp".firstIndex(of: u) {
            scale = pow(1024, Double("kmgtp".distance(from: "kmgtp".startIndex, to: i) + 1))
            s = s.dropFirst()
            if s.first == "i" { s = s.dropFirst() }
        }
        if s.first == "b" { s = s.dropFirst() }
        guard s.isEmpty, let v = Double(number), v >= 0, v * scale < Double(Int64.max) else { return nil }
        return Int64(v * scale)
    }
}
