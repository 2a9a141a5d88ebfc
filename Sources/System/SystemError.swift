#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: what was tried (`operation`), on what (`path`) and the C error. The one
/// errno-carrying error every module throws or wraps, so that every failed call reads the same
/// way (`write /var/lib/slipway/tmp/x: No space left on device (…)`) and a full disk always says
/// which filesystem to free.
public struct SystemError: Error, CustomStringConvertible, Sendable, Equatable {
    public let operation: String
    public let path: String
    public let errno: Int32

    public init(operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    /// The error of the call that just failed (reads the thread's `errno`).
    public static func last(_ operation: String, path: String) -> SystemError {
        SystemError(operation: operation, path: path, errno: Glibc.errno)
    }

    /// `operation path: reason`.
    public var description: String { "\(operation) \(path): \(reason)" }

    /// The C text of the error, with the free space for a full disk (`describe(errno:path:)`).
    public var reason: String { Self.describe(errno: errno, path: path) }

    /// The text of a failed system call's errno. A full disk (ENOSPC, EDQUOT) says which
    /// filesystem is full and how much is left, so the user knows what to free (or where to move
    /// the store with `--root`): the nearest existing ancestor of `path` names the filesystem.
    public static func describe(errno e: Int32, path: String) -> String {
        let text = String(cString: strerror(e))
        guard e == ENOSPC || e == EDQUOT else { return text }
        var dir = path
        var fs = statvfs()
        while !dir.isEmpty {
            if statvfs(dir, &fs) == 0 {
                let free = Int64(fs.f_bavail) * Int64(fs.f_frsize)
                return text + " (the filesystem holding '\(dir)' is full: \(free) bytes free; free space there, or move the store with --root or $SLIPWAY_ROOT)"
            }
            guard let slash = dir.lastIndex(of: "/") else { break }
            dir = slash == dir.startIndex ? (dir == "/" ? "" : "/") : String(dir[..<slash])
        }
        return text + " (the disk is full)"
    }
}
