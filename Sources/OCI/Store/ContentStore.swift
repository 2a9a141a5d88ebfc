import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif
import System

/// The store's content: blobs by digest under `blobs/sha256/`, written only through
/// `BlobWriter` (hashed, verified, fsynced, renamed), and the leases that keep a blob from a
/// concurrent GC until an image or cache record names it. Images and cache records name blobs;
/// this part knows nothing of them.
public struct ContentStore: Sendable {
    public let blobsDirectory: String
    /// Where blob writes stage their temp files (same filesystem: a rename publishes).
    public let tmpDirectory: String
    let index: StoreIndex

    init(blobsDirectory: String, tmpDirectory: String, index: StoreIndex) {
        self.blobsDirectory = blobsDirectory
        self.tmpDirectory = tmpDirectory
        self.index = index
    }

    /// Where a blob lives (whether or not it is present).
    public func blobPath(_ digest: Digest) -> String { blobsDirectory + "/" + digest.encoded }

    public func hasBlob(_ digest: Digest) -> Bool {
        digest.algorithm == "sha256" && FileSystem.exists(blobPath(digest))
    }

    /// Starts a streaming blob write (layers, large files).
    public func blobWriter() throws -> BlobWriter { try BlobWriter(content: self) }

    /// Stores in-memory bytes (manifests, configs), verified against `expected` when given.
    @discardableResult
    public func putBlob(_ bytes: [UInt8], expected: Digest? = nil, what: String = "blob") throws -> Digest {
        let w = try blobWriter()
        try w.write(bytes)
        return try w.commit(expected: expected, expectedSize: nil, what: what).digest
    }

    /// Copies a file into the store as one blob, streaming and verifying.
    @discardableResult
    public func putBlob(copying path: String, expected: Digest? = nil, expectedSize: Int64? = nil) throws -> (digest: Digest, size: Int64) {
        let w = try blobWriter()
        try StoreError.wrapping { try FileIO.forEachChunk(ofFile: path) { try w.write($0) } }
        return try w.commit(expected: expected, expectedSize: expectedSize, what: path)
    }

    /// Reads a whole blob (manifests and configs) and verifies its digest.
    public func readBlob(_ digest: Digest, limit: Int = 64 << 20) throws -> [UInt8] {
        guard digest.algorithm == "sha256" else { throw StoreError.blobMissing(digest) }
        let path = blobPath(digest)
        guard FileSystem.exists(path) else { throw StoreError.blobMissing(digest) }
        let bytes = try StoreError.wrapping { try FileIO.readFile(path, limit: limit) }
        let actual = Digest.sha256(Data(bytes))
        guard actual == digest else {
            throw StoreError.digestMismatch(expected: digest, actual: actual, what: "blob \(path)")
        }
        return bytes
    }

    /// Opens a blob for streaming reads; the caller closes the descriptor.
    public func openBlob(_ digest: Digest) throws -> Int32 {
        // Only sha256 blobs live in blobs/sha256; any other digest never names a file there.
        guard digest.algorithm == "sha256" else { throw StoreError.blobMissing(digest) }
        let path = blobPath(digest)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { throw StoreError.blobMissing(digest) }
            throw StoreError.io(path: path, operation: "open", errno: errno)
        }
        return fd
    }

    public func blobSize(_ digest: Digest) -> Int64? {
        guard digest.algorithm == "sha256" else { return nil }
        var st = stat()
        guard stat(blobPath(digest), &st) == 0 else { return nil }
        return Int64(st.st_size)
    }

    /// Protects a blob that is already present from garbage collection until an image or cache
    /// record names it (or this process ends). Returns false when the blob is absent.
    public func lease(_ digest: Digest) throws -> Bool {
        try index.locked { db in
            guard hasBlob(digest) else { return false }
            try addLease(db, digest)
            return true
        }
    }

    /// Leases every blob of `digests` that is present, in one transaction, and returns those
    /// that are absent (empty when all are leased). A build leases what it will use — its base
    /// image's blobs, every cached layer it takes — before it uses them, so `prune` or `rmi`
    /// running at the same time cannot delete them under it.
    public func lease(_ digests: [Digest]) throws -> [Digest] {
        if digests.isEmpty { return [] }
        return try index.locked { db in
            var missing: [Digest] = []
            for d in digests {
                if hasBlob(d) { try addLease(db, d) } else { missing.append(d) }
            }
            return missing
        }
    }

    func addLease(_ db: Database, _ digest: Digest) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO leases(digest, pid, created_at) VALUES (?, ?, ?)",
                       arguments: [digest.description, Int64(getpid()), Date().timeIntervalSince1970])
    }

    /// Moves a verified temp file into `blobs/`: lease first (so a concurrent collection keeps
    /// it), then rename, then fsync of the directory.
    func publish(tempPath: String, digest: Digest) throws {
        try index.locked { db in try addLease(db, digest) }
        let dest = blobPath(digest)
        if FileSystem.exists(dest) {
            unlink(tempPath)
            return
        }
        chmod(tempPath, 0o444)
        try StoreError.wrapping { try FileIO.check(rename(tempPath, dest), "rename to \(dest)", tempPath) }
        try FileSystem.fsyncDirectory(blobsDirectory)
    }
}
