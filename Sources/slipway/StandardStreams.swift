import Foundation
import OCI
import System

/// Unbuffered writes of the CLI's own lines to stdout and stderr. Not `FileHandle.write(_:)`:
/// that traps when the write fails, and with SIGPIPE caught (`CleanupRegistry.installHandlers`)
/// a write to a pipe whose reader left fails with EPIPE. Returns 0 or the errno; callers whose
/// lines are informational ignore it.
@discardableResult
func writeStandardOutput(_ text: String) -> Int32 {
    var text = text
    return text.withUTF8 { FileIO.writeFully(STDOUT_FILENO, UnsafeRawBufferPointer($0)) }
}

/// `writeStandardOutput` for stderr.
@discardableResult
func writeStandardError(_ text: String) -> Int32 {
    var text = text
    return text.withUTF8 { FileIO.writeFully(STDERR_FILENO, UnsafeRawBufferPointer($0)) }
}
