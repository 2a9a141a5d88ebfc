#if canImport(Glibc)
import Glibc
#endif
import System

/// Streams one blob into the store: bytes go to a temp file in `tmp/` while being hashed;
/// `commit` checks digest and size, fsyncs, and renames the file to `blobs/sha256/<hex>`.
/// Dropping a writer without committing removes its temp file.
public final class BlobWriter {
    let content: ContentStore
    let tempPath: String
    private var fd: Int32
    private var hasher: SHA256Hasher? = SHA256Hasher()
    public private(set) var bytesWritten: Int64 = 0
    private var finished = false

    init(content: ContentStore) throws {
        self.content = content
        tempPath = TempName.path(in: content.tmpDirectory)
        fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        try StoreError.wrapping { try FileIO.check(fd, "create", tempPath) }
    }

    public func write(_ buffer: UnsafeRawBufferPointer) throws {
        precondition(!finished, "BlobWriter used after commit/abort")
        guard buffer.count > 0 else { return }
        hasher!.update(buffer)
        try StoreError.wrapping { try FileIO.writeAll(fd, buffer, path: tempPath) }
        bytesWritten += Int64(buffer.count)
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Verifies and publishes the blob. With `expected`, a different digest is an error and
    /// nothing reaches `blobs/`; the same holds for `expectedSize`.
    @discardableResult
    public func commit(expected: Digest? = nil, expectedSize: Int64? = nil, what: String = "blob") throws -> (digest: Digest, size: Int64) {
        precondition(!finished, "BlobWriter committed twice")
        finished = true
        guard let finalHasher = hasher.take() else { preconditionFailure("BlobWriter hasher missing") }
        let digest = finalHasher.finalize()
        defer { if fd >= 0 { close(fd); fd = -1 } }
        do {
            if let size = expectedSize, size != bytesWritten {
                throw StoreError.sizeMismatch(expected: size, actual: bytesWritten, what: what)
            }
            if let e = expected, e != digest {
                throw StoreError.digestMismatch(expected: e, actual: digest, what: what)
            }
            try StoreError.wrapping { try FileIO.check(fsync(fd), "fsync", tempPath) }
            close(fd)
            fd = -1
            try content.publish(tempPath: tempPath, digest: digest)
        } catch {
            unlink(tempPath)
            throw error
        }
        return (digest, bytesWritten)
    }

    /// Discards the temp file.
    public func abort() {
        guard !finished else { return }
        finished = true
        if fd >= 0 { close(fd); fd = -1 }
        unlink(tempPath)
    }

    deinit { abort() }
}
