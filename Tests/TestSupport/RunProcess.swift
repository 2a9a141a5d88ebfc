import Foundation

/// What a finished child process said.
public struct ProcessOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var seconds: Double
    public var combined: String { stdout + stderr }
}

/// Runs `argv` to completion and captures its output. Output goes to files, not pipes, so a
/// chatty child never blocks on a full pipe; the wait happens on a thread of its own (`offPool`),
/// never on one of the cooperative pool's two threads. `CI` is removed from the environment
/// (it switches `slipway analyze` into dive's CI mode); `env` entries are added on top.
public func runProcess(_ argv: [String], cwd: String? = nil, env: [String: String] = [:],
                       stdinFile: String? = nil) async throws -> ProcessOutput {
    try await offPool { try runProcessBlocking(argv, cwd: cwd, env: env, stdinFile: stdinFile) }
}

/// `runProcess` for code already off the cooperative pool.
public func runProcessBlocking(_ argv: [String], cwd: String? = nil, env: [String: String] = [:],
                               stdinFile: String? = nil) throws -> ProcessOutput {
    let dir = NSTemporaryDirectory() + "slipway-proc-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    _ = FileManager.default.createFile(atPath: dir + "/out", contents: nil)
    _ = FileManager.default.createFile(atPath: dir + "/err", contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: argv[0])
    process.arguments = Array(argv.dropFirst())
    if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    var environment = ProcessInfo.processInfo.environment
    environment["CI"] = nil
    for (key, value) in env { environment[key] = value }
    process.environment = environment
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/out"))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/err"))
    process.standardInput = try stdinFile.map { try FileHandle(forReadingFrom: URL(fileURLWithPath: $0)) }
        ?? FileHandle.nullDevice
    let start = Date()
    try process.run()
    process.waitUntilExit()
    let out = (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""
    return ProcessOutput(status: process.terminationStatus, stdout: out, stderr: err,
                         seconds: Date().timeIntervalSince(start))
}
