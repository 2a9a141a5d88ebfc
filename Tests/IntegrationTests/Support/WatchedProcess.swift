import Foundation

/// A slipway process whose output goes to a file the test watches while it runs, so a test can
/// act at a known moment of a build (signal it during a step, run GC once FROM is resolved).
/// Every wait here blocks: call it inside `offPool`.
final class WatchedProcess: @unchecked Sendable {
    let process = Process()
    let log: String

    /// Starts `BuildHarness.binary` with `args`; output (stdout and stderr) goes to a file in `dir`.
    init(_ args: [String], logIn dir: String) throws {
        log = dir + "/watched-\(UUID().uuidString.prefix(8)).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: BuildHarness.binary)
        process.arguments = args
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = out
        process.standardError = out
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Whether the process still runs (a zombie does not: Foundation reaps it late).
    var isRunning: Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].drop { $0 == " " }.first != "Z"
    }

    /// Waits until the output contains `text`; false when the process ended first or `timeout` passed.
    func wait(for text: String, timeout: TimeInterval = 60) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if output.contains(text) { return true }
            if !isRunning { return output.contains(text) }
            usleep(5_000)
        }
        return false
    }

    /// Sends `signal` if the process still runs; true when it was sent.
    @discardableResult
    func signal(_ signal: Int32) -> Bool { isRunning && kill(pid, signal) == 0 }

    /// Waits until the process has stopped, then returns its output. Not `waitUntilExit`:
    /// Foundation waits there until every process that inherited its bookkeeping descriptor has
    /// closed it — an orphaned container of a killed build included.
    @discardableResult
    func waitStopped(timeout: TimeInterval = 120) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning, Date() < deadline { usleep(10_000) }
        if isRunning { kill(pid, SIGKILL) }
        return output
    }

    /// The exit status, once stopped (waits for Foundation's bookkeeping).
    var status: Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }
}
