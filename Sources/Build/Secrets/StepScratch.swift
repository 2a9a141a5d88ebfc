#if canImport(Glibc)
import Glibc
#endif
import Foundation
import System

/// A private (0700) directory on a tmpfs for one step's secret files and inline scripts:
/// secrets never touch a disk. Registered with `CleanupRegistry` so a signal removes it too.
final class StepScratch: @unchecked Sendable {
    let path: String
    private let token: CleanupRegistry.Token

    /// Prefers /dev/shm, then /run (both tmpfs on Linux); falls back to `fallback` only when
    /// neither is a tmpfs.
    init(fallback: String) throws {
        let base = Self.tmpfsBase() ?? fallback
        (token, path) = try CleanupRegistry.shared.makeDirectory(in: base, prefix: "slipway-step-")
    }

    static func tmpfsBase() -> String? {
        let mounts = FileIO.readText("/proc/self/mounts") ?? ""
        var tmpfs = Set<String>()
        for line in mounts.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count > 2, f[2] == "tmpfs" { tmpfs.insert(String(f[1])) }
        }
        return ["/dev/shm", "/run"].first { tmpfs.contains($0) && access($0, W_OK) == 0 }
    }

    /// Writes `bytes` to a new file `name` with the given mode and owner; returns its path.
    func write(_ name: String, _ bytes: [UInt8], mode: mode_t, uid: uid_t, gid: gid_t) throws -> String {
        let file = path + "/" + name
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw MountUseError("secret or heredoc file", cause: .last("create", path: file)) }
        defer { close(fd) }
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw MountUseError("secret or heredoc file", cause: .last("write", path: file)) }
            off += n
        }
        guard fchown(fd, uid, gid) == 0, fchmod(fd, mode) == 0 else {
            throw MountUseError("secret or heredoc file", cause: .last("chown/chmod", path: file))
        }
        return file
    }

    /// Removes the directory and everything in it.
    func remove() {
        CleanupRegistry.shared.cleanUp(token)
    }
}
