#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import Build
import TestSupport
import System

/// Shared helpers for the runtime tests: root check, the busybox fixture, scratch dirs, mounts.
enum RuntimeFixture {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// What the container tests need from the machine (the busybox fixture they build
    /// themselves: `busyboxRootfs()`).
    static let prerequisites: [Prerequisite] = [.root, .runc, .busybox]

    /// scripts/fixtures.sh busybox → its rootfs/ directory (built once, cached). Throws (the test
    /// fails) when the fixture cannot be built.
    static func busyboxRootfs() throws -> String {
        try busyboxFixture.get()
    }

    private static let busyboxFixture: Result<String, FixtureBuildError> = {
        let script = packageRoot + "/scripts/fixtures.sh"
        do {
            let result = try ChildProcess.runCapturing([script, "busybox"])
            guard result.code == 0, let dir = result.output.split(separator: "\n").last else {
                return .failure(FixtureBuildError(description: "\(script) busybox exited \(result.code): \(result.output)"))
            }
            return .success(String(dir) + "/rootfs")
        } catch {
            return .failure(FixtureBuildError(description: "\(script) busybox: \(error)"))
        }
    }()

    struct FixtureBuildError: Error, CustomStringConvertible {
        let description: String
    }

    static func scratch() throws -> String {
        try FileSystem.makeTemporaryDirectory(in: "/var/tmp/slipway-tests", prefix: "rt-")
    }

    /// Overlay mounts whose mount point is under `dir`.
    static func overlayMounts(under dir: String) -> [String] {
        (FileIO.readText("/proc/self/mountinfo") ?? "").split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let point = String(fields[4])
            return point.hasPrefix(dir) ? point : nil
        }
    }

    static func executor(_ kind: ContainerRuntime.Kind = .runc, scratch: String) throws -> RunExecutor {
        RunExecutor(runtime: try ContainerRuntime.find(kind), scratchDirectory: scratch)
    }

    /// Collects output lines across threads.
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var storage: [OutputLine] = []
        func append(_ line: OutputLine) { lock.lock(); storage.append(line); lock.unlock() }
        var all: [OutputLine] { lock.lock(); defer { lock.unlock() }; return storage }
        var texts: [String] { all.map(\.text) }
    }
}
