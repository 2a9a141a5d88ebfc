import Foundation
import OCI
#if canImport(Glibc)
import Glibc
#endif
import System

/// Writes a 2xx body to a new private file (ADD <url> downloads); error bodies are collected.
final class DownloadSink: ResponseSink, @unchecked Sendable {
    private let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw HTTPError.system(.last("create", path: path)) }
    }

    deinit { close(fd) }

    func begin(status: Int, headers: [String: String]) throws -> Bool {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw HTTPError.system(.last("truncate", path: path))
        }
        return (200..<300).contains(status)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        let e = FileIO.writeFully(fd, bytes)
        if e != 0 { throw HTTPError.system(SystemError(operation: "write", path: path, errno: e)) }
    }

    /// Removes the partial file after a failure.
    func abandon() { unlink(path) }
}
