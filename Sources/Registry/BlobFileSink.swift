import Foundation
import HTTP
#if canImport(Glibc)
import Glibc
#endif
import OCI
import System

/// Hands a blob body to a `BlobReceiver` (which hashes it as it arrives, so the digest is known
/// the moment the last byte lands), and keeps its state across attempts so a retry can resume
/// with `Range`.
final class BlobSink: ResponseSink, @unchecked Sendable {
    private let lock = NSLock()
    private let target: any BlobReceiver
    private(set) var written: Int64 = 0
    /// The offset the current request asked to start from (0 without Range).
    var requestedOffset: Int64 = 0
    let expectedSize: Int64?
    let what: String
    let progress: (@Sendable (Int64) -> Void)?

    init(target: any BlobReceiver, expectedSize: Int64?, what: String, progress: (@Sendable (Int64) -> Void)?) {
        self.target = target
        self.expectedSize = expectedSize
        self.what = what
        self.progress = progress
    }

    func begin(status: Int, headers: [String: String]) throws -> Bool {
        try lock.withLock {
            switch status {
            case 206:
                // Resume only if the server starts exactly where we asked.
                let range = headers["content-range"] ?? ""
                if requestedOffset > 0, requestedOffset == written, range.hasPrefix("bytes \(requestedOffset)-") { return true }
                throw RegistryError.protocolViolation("\(what): partial content '\(range)' does not start at byte \(requestedOffset)")
            case 200:
                if written > 0 { try restartLocked() }  // the server ignored Range: start over
                return true
            default:
                return false
            }
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        let total: Int64 = try lock.withLock {
            let newTotal = written + Int64(bytes.count)
            if let expectedSize, newTotal > expectedSize {
                throw RegistryError.sizeMismatch(expected: expectedSize, actual: newTotal, what: what)
            }
            try target.append(bytes)
            written = newTotal
            return newTotal
        }
        progress?(total)
    }

    /// Drops everything received so far.
    func reset() throws {
        try lock.withLock { try restartLocked() }
    }

    private func restartLocked() throws {
        try target.restart()
        written = 0
    }

    /// The digest of the complete body; the target keeps the bytes only when it is `expected`.
    func finish(expected: Digest) throws -> Digest {
        try lock.withLock { try target.finalize(expected: expected, size: expectedSize, what: what) }
    }
}

/// A blob downloaded to a path outside the store.
final class FileBlobTarget: BlobReceiver, @unchecked Sendable {
    private let fd: Int32
    private let path: String
    private var hasher: SHA256Hasher? = SHA256Hasher()

    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RegistryError.system(.last("create", path: path))
        }
    }

    deinit { close(fd) }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        let e = FileIO.writeFully(fd, bytes)
        if e != 0 { throw RegistryError.system(SystemError(operation: "write", path: path, errno: e)) }
        hasher?.update(bytes)
    }

    func restart() throws {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw RegistryError.system(.last("truncate", path: path))
        }
        hasher = SHA256Hasher()
    }

    func finalize(expected: Digest, size: Int64?, what: String) throws -> Digest {
        guard let h = hasher.take() else { throw RegistryError.io("\(what): finalized twice") }
        let actual = h.finalize()
        if actual == expected {
            guard fsync(fd) == 0 else { throw RegistryError.system(.last("fsync", path: path)) }
        }
        return actual
    }

    func abort() {}
}
