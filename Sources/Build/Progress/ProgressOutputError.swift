#if canImport(Glibc)
import Glibc
#endif
import System

/// A write of build progress (stderr) or of the result line (stdout) failed. Usually the reader
/// of a pipe went away (`slipway build . 2>&1 | head`, quitting `less`): SIGPIPE is caught, so the
/// write returns EPIPE and the build stops as a failure, with everything it made cleaned up,
/// instead of the process dying mid-RUN.
public struct ProgressOutputError: Error, CustomStringConvertible, Equatable {
    /// The failed write (its path is the stream: "stderr" or "stdout").
    public var cause: SystemError
    public var stream: String { cause.path }
    public var errno: Int32 { cause.errno }

    public init(stream: String, errno: Int32) {
        cause = SystemError(operation: "write", path: stream, errno: errno)
    }

    public var description: String {
        let hint = errno == EPIPE ? " (the program reading the build's output exited)" : ""
        return "cannot write the build's output to \(stream): \(cause.reason)\(hint); the build was stopped"
    }
}
