import Foundation
#if canImport(Glibc)
import Glibc
#endif
import OCI

/// Where a downloading blob's bytes go: a plain file or a store `BlobWriter`.
protocol BlobTarget: AnyObject {
    func append(_ bytes: UnsafeRawBufferPointer) throws
    /// Discards everything appended (the server ignored Range, or the bytes were wrong).
    func restart() throws
    /// Makes the bytes durable before they are trusted.
    func flush() throws
}

/// Hashes a blob body while handing it to a `BlobTarget`, so the digest is known the moment
/// the last byte lands, and keeps its state across attempts so a retry can resume with `Range`.
final class BlobSink: ResponseSink, @unchecked Sendable {
    private let lock = NSLock()
    private let target: BlobTarget
    private var hasher: SHA256Hasher? = SHA256Hasher()
    private(set) var written: Int64 = 0
    /// The offset the current request asked to start from (0 without Range).
    var requestedOffset: Int64 = 0
    let expectedSize: Int64?
    let what: String
    let progress: (@Sendable (Int64) -> Void)?

    init(target: BlobTarget, expectedSize: Int64?, what: String, progress: (@Sendable (Int64) -> Void)?) {
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

    func write(_ data: Data) throws {
        let total: Int64 = try lock.withLock {
            let newTotal = written + Int64(data.count)
            if let expectedSize, newTotal > expectedSize {
                throw RegistryError.sizeMismatch(expected: expectedSize, actual: newTotal, what: what)
            }
            try data.withUnsafeBytes { raw in
                try target.append(raw)
                hasher?.update(raw)
            }
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
        hasher = SHA256Hasher()
        written = 0
    }

    /// The digest of everything written, after flushing it. Call once per complete body.
    func finish() throws -> Digest {
        try lock.withLock {
            try target.flush()
            guard let h = hasher.take() else { throw RegistryError.io("\(what): digest already taken") }
            return h.finalize()
        }
    }
}

/// A blob downloaded to a path outside the store.
final class FileBlobTarget: BlobTarget {
    private let fd: Int32
    private let path: String

    init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RegistryError.io("cannot create \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, base + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw RegistryError.io("writing \(path): \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    func restart() throws {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw RegistryError.io("truncating \(path): \(String(cString: strerror(errno)))")
        }
    }

    func flush() throws {
        guard fsync(fd) == 0 else { throw RegistryError.io("fsync \(path): \(String(cString: strerror(errno)))") }
    }
}

/// A blob downloaded straight into the store through a `BlobWriter` (temp file on the store's
/// filesystem, renamed into `blobs/` only by `commit`, which re-checks the digest).
final class StoreBlobTarget: BlobTarget {
    private let store: ImageStore
    private var writer: BlobWriter

    init(store: ImageStore) throws {
        self.store = store
        writer = try store.blobWriter()
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws { try writer.write(bytes) }

    func restart() throws {
        writer.abort()
        writer = try store.blobWriter()
    }

    func flush() throws {}

    func commit(digest: Digest, size: Int64?, what: String) throws {
        try writer.commit(expected: digest, expectedSize: size, what: what)
    }

    func abort() { writer.abort() }
}
