import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Shared helpers for integration tests: where the package and the built `slipway` are, how
/// to run it, scratch directories, and the conformance data.
enum Fixtures {
    /// The package root, from this file's path (Tests/IntegrationTests/Support/…).
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `.build/debug/slipway` (tests that run it require `.slipwayBinary`).
    static let slipwayBinary = Host.slipwayBinary

    /// `../shared/conformance/<sub>` (tests that read it require `.conformance(sub)`).
    static func conformance(_ sub: String) throws -> String {
        try #require(Host.conformance(sub), "../shared/conformance/\(sub) is absent")
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program to completion, capturing its output. The wait happens on a thread of its
    /// own: a test blocked in waitpid on one of the cooperative pool's two threads here would
    /// stall every other test's tasks for as long as the child runs.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                    stdin: String? = nil) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Swift.Result { try runBlocking(executable, arguments, environment: environment, stdin: stdin) })
            }.start()
        }
    }

    /// Runs blocking work (a process to completion, a polling loop) on a thread of its own and
    /// delivers its result, so no cooperative-pool thread is held while it runs.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Swift.Result { try body() })
            }.start()
        }
    }

    /// Polls `probe` every `interval` seconds until it gives a value or `seconds` have passed, all
    /// on a thread of its own: a readiness deadline measured across suspensions could run out
    /// while the task waits for a busy cooperative pool rather than for the server.
    static func poll<T: Sendable>(seconds: Double, every interval: Double, _ probe: @escaping @Sendable () -> T?) async -> T? {
        await withCheckedContinuation { continuation in
            Thread {
                let deadline = Date().addingTimeInterval(seconds)
                while Date() < deadline {
                    if let value = probe() { continuation.resume(returning: value); return }
                    usleep(useconds_t(interval * 1_000_000))
                }
                continuation.resume(returning: nil)
            }.start()
        }
    }

    /// Kills `process` (SIGKILL: a test process may pass SIGTERM on as ignored) and reaps it on a
    /// thread of its own. For `defer` and `deinit`, which cannot await: no pool thread waits.
    static func killInBackground(_ process: Process) {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        Thread { process.waitUntilExit() }.start()
    }

    /// Waits for `process` to exit without holding a cooperative-pool thread.
    static func waitOffPool(_ process: Process) async {
        await withCheckedContinuation { continuation in
            Thread {
                process.waitUntilExit()
                continuation.resume()
            }.start()
        }
    }

    private static func runBlocking(_ executable: String, _ arguments: [String], environment: [String: String], stdin: String?) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        var inherited = ProcessInfo.processInfo.environment
        inherited["CI"] = nil   // CI=true would switch `analyze` into dive's CI mode; tests opt in explicitly
        p.environment = inherited.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let input = stdin.map { _ in Pipe() }
        p.standardInput = input ?? FileHandle.nullDevice
        try p.run()
        if let input, let stdin {
            signal(SIGPIPE, SIG_IGN)   // a child that exits unread must not kill the test process
            // A pipe, not a terminal: what a script's `echo y | slipway prune` gives.
            try? input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8))
            try? input.fileHandleForWriting.close()
        }
        // Read both pipes concurrently so a chatty child never blocks on a full pipe.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Runs a shell command line; throws when it fails.
    @discardableResult
    static func sh(_ command: String) async throws -> String {
        let r = try await run("/bin/sh", ["-c", command])
        guard r.status == 0 else { throw FixtureError("`\(command)` exited \(r.status): \(r.stderr)") }
        return r.stdout
    }

    /// Runs `slipway ARGS --root ROOT`.
    @discardableResult
    static func slipway(_ binary: String, root: String, _ arguments: [String]) async throws -> Result {
        try await run(binary, arguments + ["--root", root])
    }

    /// A fresh scratch directory under /tmp; remove it with `removeScratch`.
    static func scratch(_ label: String) throws -> String {
        var template = Array("/tmp/slipway-it-\(label)-XXXXXX".utf8CString)
        guard let p = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw FixtureError("mkdtemp failed: \(String(cString: strerror(errno)))")
        }
        return String(cString: p)
    }

    static func removeScratch(_ path: String) {
        // Called from `defer`, so synchronous: removed in process, no `rm` child to wait for.
        try? FileManager.default.removeItem(atPath: path)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

extension Prerequisite {
    /// dive's test archives in `../shared/conformance/dive`.
    static let diveArchives = Prerequisite.conformance("dive", containing: "test-docker-image.tar")
}
