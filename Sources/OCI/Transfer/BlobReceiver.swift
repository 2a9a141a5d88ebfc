import Foundation
import System
#if canImport(Glibc)
import Glibc
#endif

/// Where the bytes of one blob go while it is copied (a store temp file, a plain file, memory).
/// Used by one transfer at a time, in order (hence `@unchecked Sendable` implementations).
/// A receiver hashes what it is given, so the digest is known the moment the last byte lands;
/// a source may `restart` it (a download that must start over) any number of times.
public protocol BlobReceiver: AnyObject, Sendable {
    func append(_ bytes: UnsafeRawBufferPointer) throws
    /// Discards everything appended (the server ignored Range, or the bytes were wrong).
    func restart() throws
    /// Checks everything appended against `expected` (and `size`) and, when it matches, makes
    /// it durable (for the store: publishes it). Returns the actual digest; on a mismatch
    /// nothing is published and `restart` must come before more bytes.
    func finalize(expected: Digest, size: Int64?, what: String) throws -> Digest
    /// Drops what was received (the copy failed).
    func abort()
}

/// A blob received straight into the store through a `BlobWriter` (temp file on the store's
/// filesystem, renamed into `blobs/` only by `commit`, which re-checks the digest).
public final class StoreBlobReceiver: BlobReceiver, @unchecked Sendable {
    private let store: ImageStore
    private var writer: BlobWriter

    public init(store: ImageStore) throws {
        self.store = store
        writer = try store.content.blobWriter()
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws { try writer.write(bytes) }

    public func restart() throws {
        writer.abort()
        writer = try store.content.blobWriter()
    }

    /// `BlobWriter.commit` hashes, compares, fsyncs and renames into `blobs/` in one step.
    public func finalize(expected: Digest, size: Int64?, what: String) throws -> Digest {
        do {
            try writer.commit(expected: expected, expectedSize: size, what: what)
            return expected
        } catch StoreError.digestMismatch(_, let actual, _) {
            return actual
        }
    }

    public func abort() { writer.abort() }
}

/// A small blob (a config, a manifest) received into memory.
public final class MemoryBlobReceiver: BlobReceiver, @unchecked Sendable {
    public private(set) var bytes: [UInt8] = []
    /// Configs and manifests are small; anything past this is refused rather than buffered.
    let limit: Int

    public init(limit: Int = 64 << 20) { self.limit = limit }

    public func append(_ chunk: UnsafeRawBufferPointer) throws {
        guard bytes.count + chunk.count <= limit else {
            throw StoreError.invalid("blob is larger than \(limit) bytes, too large to hold in memory")
        }
        bytes.append(contentsOf: chunk)
    }

    public func restart() throws { bytes.removeAll(keepingCapacity: true) }

    public func finalize(expected: Digest, size: Int64?, what: String) throws -> Digest {
        if let size, Int64(bytes.count) != size {
            throw StoreError.sizeMismatch(expected: size, actual: Int64(bytes.count), what: what)
        }
        return Digest.sha256(Data(bytes))
    }

    public func abort() { bytes = [] }
}

extension BlobReceiver {
    /// Streams the file at `path` into this receiver and finalizes it against `descriptor`
    /// (digest and size): the one loop of the file-backed sources (`StoreImageSource`,
    /// `OCILayoutSource`). A mismatch aborts the receiver and throws `mismatch(actual)`.
    func receive(file path: String, as descriptor: Descriptor, what: String,
                 progress: (@Sendable (Int64) -> Void)?, mismatch: (Digest) -> any Error) throws -> Int64 {
        var moved: Int64 = 0
        try StoreError.wrapping { try FileIO.forEachChunk(ofFile: path) { chunk in
            try append(chunk)
            moved += Int64(chunk.count)
            progress?(moved)
        } }
        let actual = try finalize(expected: descriptor.digest, size: descriptor.size, what: what)
        guard actual == descriptor.digest else {
            abort()
            throw mismatch(actual)
        }
        return moved
    }
}
