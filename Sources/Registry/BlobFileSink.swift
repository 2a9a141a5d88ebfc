import Foundation
#if canImport(Glibc)
import Glibc
#endif
import OCI

/// Writes a blob body to a file while hashing it, so the digest is known the moment the last
/// byte lands, and keeps its state across attempts so a retry can resume with `Range`.
final class BlobFileSink: ResponseSink, @unchecked Sendable {
    private let lock = NSLock()
    private let fd: Int32
    private var hasher: SHA256Hasher? = SHA256Hasher()
    private(set) var written: Int64 = 0
    /// The offset the current request asked to start from (0 without Range).
    var requestedOffset: Int64 = 0
    let expectedSize: Int64?
    let what: String
    let progress: (@Sendable (Int64) -> Void)?

    init(path: String, expectedSize: Int64?, what: String, progress: (@Sendable (Int64) -> Void)?) throws {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RegistryError.io("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        self.expectedSize = expectedSize
        self.what = what
        self.progress = progress
    }

    deinit { close(fd) }

    func begin(status: Int, headers: [String: String]) throws -> Bool {
        try lock.withLock {
            switch status {
            case 206:
                // Resume only if the server starts exactly where we asked.
                let range = headers["content-range"] ?? ""
                if requestedOffset > 0, range.hasPrefix("bytes \(requestedOffset)-") { return true }
                throw RegistryError.protocolViolation("\(what): partial content '\(range)' does not start at byte \(requestedOffset)")
            case 200:
                if written > 0 { try resetLocked() }  // the server ignored Range: start over
                return true
            default:
                return false
            }
        }
    }

    func write(_ data: Data) throws {
        try lock.withLock {
            let newTotal = written + Int64(data.count)
            if let expectedSize, newTotal > expectedSize {
                throw RegistryError.sizeMismatch(expected: expectedSize, actual: newTotal, what: what)
            }
            try data.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return }
                var offset = 0
                while offset < raw.count {
                    let n = Glibc.write(fd, base + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw RegistryError.io("writing \(what): \(String(cString: strerror(errno)))")
                    }
                    offset += n
                }
                hasher?.update(raw)
            }
            written = newTotal
        }
        progress?(written)
    }

    /// Drops everything received so far.
    func reset() throws {
        try lock.withLock { try resetLocked() }
    }

    private func resetLocked() throws {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw RegistryError.io("truncating \(what): \(String(cString: strerror(errno)))")
        }
        hasher = SHA256Hasher()
        written = 0
    }

    /// The digest of everything written, after flushing it to disk. Call once.
    func finish() throws -> Digest {
        try lock.withLock {
            guard fsync(fd) == 0 else { throw RegistryError.io("fsync \(what): \(String(cString: strerror(errno)))") }
            guard let h = hasher.take() else { throw RegistryError.io("\(what): digest already taken") }
            return h.finalize()
        }
    }
}
