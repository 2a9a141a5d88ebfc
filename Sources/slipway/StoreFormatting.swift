import ArgumentParser
import Foundation
import OCI

/// Output helpers shared by the store commands: Docker's human sizes and durations, aligned
/// tables, and the one-line `error:` reporting every command uses.
enum StoreFormatting {
    /// Docker's `units.HumanSizeWithPrecision(n, 3)`: decimal units, 3 significant digits.
    static func humanSize(_ bytes: Int64) -> String {
        var value = Double(bytes)
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        var i = 0
        while value >= 1000, i < units.count - 1 {
            value /= 1000
            i += 1
        }
        return String(format: "%.3g", value) + units[i]
    }

    /// Docker's `units.HumanDuration`.
    static func humanDuration(_ interval: TimeInterval) -> String {
        let seconds = Int(interval)
        if seconds < 1 { return "Less than a second" }
        if seconds == 1 { return "1 second" }
        if seconds < 60 { return "\(seconds) seconds" }
        let minutes = seconds / 60
        if minutes == 1 { return "About a minute" }
        if minutes < 60 { return "\(minutes) minutes" }
        let hours = Int((interval / 3600).rounded())
        if hours == 1 { return "About an hour" }
        if hours < 48 { return "\(hours) hours" }
        if hours < 24 * 7 * 2 { return "\(hours / 24) days" }
        if hours < 24 * 30 * 2 { return "\(hours / 24 / 7) weeks" }
        if hours < 24 * 365 * 2 { return "\(hours / 24 / 30) months" }
        return "\(Int(interval / 3600) / 24 / 365) years"
    }

    /// "2 hours ago", or "N/A" for images without a creation time.
    static func since(_ date: Date?, now: Date = Date()) -> String {
        guard let d = date else { return "N/A" }
        return humanDuration(now.timeIntervalSince(d)) + " ago"
    }

    /// Columns padded like Docker's tabwriter (3 spaces between columns).
    /// Rows may have more or fewer cells than the header (a `table` template's lines).
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: all.map(\.count).max() ?? 0)
        for row in all { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return all.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i] + 3, withPad: " ", startingAt: 0)
            }.joined().replacingOccurrences(of: " +$", with: "", options: .regularExpression)
        }.joined(separator: "\n")
    }

    /// One JSON object per line, as `docker … --format json` prints.
    static func jsonLine<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try CanonicalJSON.encode(value), as: UTF8.self)
    }
}

/// Runs a command body and turns any error into `error: <one line>` on stderr and exit status 1.
/// Prints `error: MESSAGE` on stderr: the one place errors reach the terminal. Control
/// characters from untrusted names inside the message are shown escaped, and very long words
/// abbreviated (`DisplayText`).
func printError(_ message: String) {
    let shown = DisplayText.abbreviated(DisplayText.escaped(message, keepLineBreaks: true))
    writeStandardError("error: \(shown)\n")
}

func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let e as ExitCode {
        throw e
    } catch let e as ValidationError {
        printError(e.message)
        throw ExitCode.failure
    } catch {
        printError("\(error)")
        debugDetail(error)
        throw ExitCode.failure
    }
}
