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
}
