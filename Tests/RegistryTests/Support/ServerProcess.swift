import Foundation
#if canImport(Glibc)
import Glibc
import TestSupport
#endif

/// Errors from starting the helper servers tests depend on.
struct TestSupportError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A scratch directory removed by `remove()`.
struct TempDir {
    let url: URL
    init(_ label: String) throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("slipway-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    var path: String { url.path }
    func file(_ name: String) -> URL { url.appendingPathComponent(name) }
    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// A child process started by a test, always bound to 127.0.0.1, stopped by `stop()`.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let logPath: String
    private let pidFile: String

    init(executable: String, arguments: [String], logPath: String, environment: [String: String]? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw TestSupportError("\(executable) is not installed (scripts/setup.sh installs it)")
        }
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        // A shell watchdog: the server is killed when the test process disappears (a hung test
        // killed by a timeout), so no registry outlives its test run. SIGKILL, because children
        // of a test process may inherit a mask that blocks SIGTERM. (PR_SET_PDEATHSIG would fire
        // when the spawning *thread* exits, which dispatch worker threads do.)
        pidFile = logPath + ".pid"
        let watchdog = """
        "$@" & child=$!
        echo $child > '\(pidFile)'
        while kill -0 \(getpid()) 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 0.2; done
        kill -KILL $child 2>/dev/null; wait $child
        """
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", watchdog, "sh", executable] + arguments
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        if let environment { process.environment = environment }
        try process.run()
    }

    /// Kills the server and waits (off the cooperative pool) for its watchdog to exit.
    func stop() async {
        await offPool { self.stopBlocking() }
    }

    private func stopBlocking() {
        // Kill the server itself; the watchdog shell then exits. Process.waitUntilExit can spin
        // forever in FoundationNetworking's run loop, so poll instead.
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline {
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
               let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 {
                kill(pid, SIGKILL)
            }
            usleep(20_000)
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until something accepts TCP connections on address:port. The polling runs on a
    /// thread of its own, so the deadline measures the server, not a busy cooperative pool.
    func waitForPort(_ port: Int, address: String = "127.0.0.1", timeout: TimeInterval = 15) async throws {
        try await offPool { try self.waitForPortBlocking(port, address: address, timeout: timeout) }
    }

    private func waitForPortBlocking(_ port: Int, address: String, timeout: TimeInterval) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard process.isRunning else {
                throw TestSupportError("\(process.executableURL?.lastPathComponent ?? "server") exited: \(log)")
            }
            if Self.canConnect(port, address: address) { return }
            usleep(30_000)
        }
        throw TestSupportError("nothing listening on \(address):\(port) after \(timeout)s: \(log)")
    }

    static func canConnect(_ port: Int, address: String = "127.0.0.1") -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr(address)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return rc == 0
    }

    /// A port on 127.0.0.1 that was free a moment ago.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Int32 in
                guard bind(fd, p, len) == 0 else { return -1 }
                return getsockname(fd, p, &len)
            }
        }
        guard bound == 0 else { throw TestSupportError("bind failed") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Waits for a helper script to write its port number to `path` (polling off the pool).
    func waitForPortFile(_ path: String, timeout: TimeInterval = 15) async throws -> Int {
        try await offPool { try self.waitForPortFileBlocking(path, timeout: timeout) }
    }

    private func waitForPortFileBlocking(_ path: String, timeout: TimeInterval) throws -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
               let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return port
            }
            guard process.isRunning else { throw TestSupportError("helper exited: \(log)") }
            usleep(30_000)
        }
        throw TestSupportError("helper did not report its port: \(log)")
    }
}

/// The python3 used for helper servers (Debian's, else whatever is on PATH).
func python3Path() -> String {
    for candidate in ["/usr/bin/python3", "/usr/local/bin/python3"] where FileManager.default.isExecutableFile(atPath: candidate) {
        return candidate
    }
    return "/usr/bin/python3"
}

/// Runs a command to completion; returns (status, combined output). Waits off the cooperative pool.
@discardableResult
func runCommand(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> (Int32, String) {
    try await offPool { try runCommandBlocking(executable, arguments, environment: environment) }
}

private func runCommandBlocking(_ executable: String, _ arguments: [String], environment: [String: String]?) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    if let environment { p.environment = environment }
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}
