import Foundation

/// A slipway process whose output goes to a file the test watches while it runs, so a test can
/// act at a known moment of a build (signal it during a step, run GC once FROM is resolved).
/// Every wait here blocks: call it inside `offPool`.
final class WatchedProcess: @unchecked Sendable {
    let process = Process()
    let log: String

    /// The reading side of the output pipe (`throughPipe`), copied to the log until `closeOutput`.
    private var pipe: PipeReader?

    /// Starts `BuildHarness.binary` with `args`; output (stdout and stderr) goes to a file in `dir`.
    /// `throughPipe`: to a pipe instead, which the test copies to that file until it closes the
    /// pipe's reading end (`closeOutput`), as `| head` does.
    init(_ args: [String], logIn dir: String, throughPipe: Bool = false) throws {
        log = dir + "/watched-\(UUID().uuidString.prefix(8)).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: BuildHarness.binary)
        process.arguments = args
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let output = throughPipe ? Pipe() : nil
        process.standardOutput = output ?? out
        process.standardError = output ?? out
        process.standardInput = FileHandle.nullDevice
        try process.run()
        if let output {
            // Our own descriptor for the reading end, so that the Pipe's handle never closes it again.
            let reader = PipeReader(dup(output.fileHandleForReading.fileDescriptor), copyingTo: out)
            try output.fileHandleForReading.close()
            Thread { reader.copy() }.start()
            pipe = reader
        }
    }

    /// Closes the reading end of the output pipe: the process's next write fails (EPIPE, or
    /// SIGPIPE if it does not catch it). Returns once it is closed.
    func closeOutput() { pipe?.close() }

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

/// Copies a pipe to a file on a thread of its own until the pipe's writers are gone or `close`
/// is called, which closes the reading end itself (so a writer sees a reader-less pipe).
private final class PipeReader: @unchecked Sendable {
    private let fd: Int32
    private let file: FileHandle
    private let state = NSCondition()
    private var closeRequested = false
    private var closed = false

    init(_ fd: Int32, copyingTo file: FileHandle) {
        self.fd = fd
        self.file = file
    }

    func copy() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            state.lock()
            let stop = closeRequested
            state.unlock()
            if stop { break }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 20) != 0 else { continue }
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            try? file.write(contentsOf: buffer[0..<n])
        }
        state.lock()
        Glibc.close(fd)
        closed = true
        state.broadcast()
        state.unlock()
    }

    func close() {
        state.lock()
        closeRequested = true
        while !closed { state.wait() }
        state.unlock()
    }
}
