#if canImport(Glibc)
import Glibc
#endif
import System

/// Errors from snapshots, bundles and the container runtime. Each names what failed and, where the
/// user can act, what to do.
public enum RuntimeError: Error, CustomStringConvertible, Sendable {
    /// A system call failed (its `SystemError`, which explains a full disk).
    case system(SystemError)
    /// A RUN process exited non-zero. `lastLines` is the tail of its combined output.
    case processFailed(command: [String], exitCode: Int32, lastLines: [String])
    /// The runtime binary (runc/crun) or a helper is missing.
    case runtimeNotFound(String)
    /// `--runtime` named something other than runc or crun.
    case unknownRuntime(String)
    /// A user or group named in USER / --user is not in the image.
    case unknownUser(spec: String, reason: String)
    /// The overlay mount options do not fit in a page even with shortened lower paths.
    case tooManyLayers(count: Int)
    /// Cleanup already began (the process got SIGINT/SIGTERM); no new resources are created.
    case shuttingDown
    /// The step was cancelled.
    case cancelled
    /// A path that must stay inside the root filesystem escapes it or has the wrong type.
    case invalidPath(path: String, reason: String)
    /// The container's command cannot be executed (checked in the root before the runtime
    /// starts): missing (exit status 127, Docker's) or not executable (126).
    case cannotExecute(command: String, reason: String, exitCode: Int32)

    /// A failed call on `path`.
    public static func system(operation: String, path: String, errno: Int32) -> RuntimeError {
        .system(SystemError(operation: operation, path: path, errno: errno))
    }

    public var description: String {
        switch self {
        case let .system(e):
            return e.description
        case let .processFailed(command, exitCode, lastLines):
            var text = "process \(Self.quote(command)) did not complete successfully: exit code: \(exitCode)"
            if !lastLines.isEmpty {
                text += "\n" + lastLines.map { "  > " + $0 }.joined(separator: "\n")
            }
            return text
        case let .runtimeNotFound(name):
            return "container runtime '\(name)' not found in PATH (install it: apt-get install \(name))"
        case let .unknownRuntime(name):
            return "unknown runtime '\(name)': use runc or crun"
        case let .unknownUser(spec, reason):
            return "unable to find user \(spec): \(reason)"
        case let .tooManyLayers(count):
            return "cannot mount \(count) layers with overlayfs: the mount options do not fit in one page; squash some layers"
        case .shuttingDown:
            return "interrupted: cleaning up"
        case .cancelled:
            return "cancelled"
        case let .invalidPath(path, reason):
            return "invalid path \(path): \(reason)"
        case let .cannotExecute(command, reason, _):
            return "exec: \"\(command)\": \(reason)"
        }
    }

    /// A `SystemError` from `System`'s helpers (a spawn of a missing runtime binary says so).
    public init(_ error: SystemError) {
        if error.operation == "spawn" && error.errno == ENOENT {
            self = .runtimeNotFound(error.path)
        } else {
            self = .system(operation: error.operation, path: error.path, errno: error.errno)
        }
    }

    /// Exit code of a failed process, if this error is one.
    public var exitCode: Int32? {
        if case let .processFailed(_, code, _) = self { return code }
        return nil
    }

    /// BuildKit's rendering of a command in error messages: `"/bin/sh -c exit 3"`.
    static func quote(_ args: [String]) -> String {
        "\"" + args.joined(separator: " ") + "\""
    }
}
