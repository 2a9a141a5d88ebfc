#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import Build

/// Shared helpers for the runtime tests: root check, the busybox fixture, scratch dirs, mounts.
enum RuntimeFixture {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// Why container tests cannot run here, or nil when they can.
    static var skipReason: String? {
        if getuid() != 0 { return "runtime tests need root" }
        if ChildProcess.which("runc") == nil { return "runc is not installed" }
        if busyboxRootfs == nil { return "busybox fixture unavailable (scripts/fixtures.sh busybox failed)" }
        return nil
    }

    /// scripts/fixtures.sh busybox → its rootfs/ directory (built once, cached).
    static let busyboxRootfs: String? = {
        guard let result = try? ChildProcess.runCapturing([packageRoot + "/scripts/fixtures.sh", "busybox"]), result.code == 0,
              let dir = result.output.split(separator: "\n").last else { return nil }
        return String(dir) + "/rootfs"
    }()

    static func scratch() throws -> String {
        try FileTree.makeTemporaryDirectory(in: "/var/tmp/slipway-tests", prefix: "rt-")
    }

    /// Overlay mounts whose mount point is under `dir`.
    static func overlayMounts(under dir: String) -> [String] {
        (FileTree.read("/proc/self/mountinfo") ?? "").split(separator: "\n").compactMap { line in
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
