import Foundation
@testable import Build
import TestSupport

/// A temporary directory tree for one test, removed when the value goes away.
final class TempTree {
    let path: String

    init(_ label: String = "t") {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-test-\(label)-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        // Canonical, so paths compare equal to what BuildContext reports.
        path = (try? ScopedPath.canonicalDirectory(base)) ?? base
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func p(_ rel: String) -> String { rel.isEmpty ? path : path + "/" + rel }

    @discardableResult
    func file(_ rel: String, _ content: String = "", mode: Int = 0o644) -> String {
        let full = p(rel)
        try? FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: full, contents: Data(content.utf8))
        chmod(full, mode_t(mode))
        return full
    }

    func dir(_ rel: String, mode: Int = 0o755) {
        try? FileManager.default.createDirectory(atPath: p(rel), withIntermediateDirectories: true)
        chmod(p(rel), mode_t(mode))
    }

    func link(_ rel: String, to target: String) {
        try? FileManager.default.createDirectory(atPath: (p(rel) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        symlink(target, p(rel))
    }

    func read(_ rel: String) -> String? {
        FileManager.default.contents(atPath: p(rel)).map { String(decoding: $0, as: UTF8.self) }
    }

    func stat(_ rel: String) -> FileStat? { (try? FileStat.lstat(p(rel))) ?? nil }

    func exists(_ rel: String) -> Bool { stat(rel) != nil }

    /// Sets atime and mtime (like `touch -d @sec`).
    func touch(_ rel: String, seconds: Int) {
        var t = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
        utimensat(AT_FDCWD, p(rel), &t, AT_SYMLINK_NOFOLLOW)
    }
}

/// Runs a command, returning its exit status; waits off the cooperative pool.
@discardableResult
func sh(_ command: String) async -> Int32 {
    await offPool { shBlocking(command) }
}

private func shBlocking(_ command: String) -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try? p.run()
    p.waitUntilExit()
    return p.terminationStatus
}
