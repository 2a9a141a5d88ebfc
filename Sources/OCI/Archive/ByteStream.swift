import Foundation

/// A consumer of bytes: the tar writer, codecs, hashers and files are chained as sinks so that a
/// layer flows through memory in fixed-size chunks, whatever its size.
public protocol ByteSink: AnyObject {
    /// Consumes all of `bytes` (the buffer is only valid during the call).
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Flushes everything downstream and finishes the stream (trailers, end frames). Call once.
    func finish() throws
}

/// A producer of bytes, pulled in chunks.
public protocol ByteSource: AnyObject {
    /// Reads up to `buffer.count` bytes; returns 0 only at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteSink {
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    public func write(_ data: Data) throws {
        try data.withUnsafeBytes { try write($0) }
    }
}

extension ByteSource {
    /// Reads the whole stream into memory. Only for small streams (tests, configs).
    public func readAll(limit: Int = 1 << 30) throws -> [UInt8] {
        var out = [UInt8]()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let n = try read(into: chunk)
            if n == 0 { break }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            if out.count > limit { throw ArchiveError.io(operation: "read", path: "<stream>", errno: EFBIG) }
        }
        return out
    }

    /// Pumps the whole source into `sink` (without finishing the sink); returns the byte count.
    @discardableResult
    public func copy(to sink: ByteSink, chunkSize: Int = 1 << 20) throws -> Int64 {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { chunk.deallocate() }
        var total: Int64 = 0
        while true {
            let n = try read(into: chunk)
            if n == 0 { return total }
            try sink.write(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            total += Int64(n)
        }
    }
}

/// Collects bytes in memory (tests and small archives).
public final class MemorySink: ByteSink {
    public private(set) var bytes: [UInt8] = []
    public private(set) var finished = false
    public init() {}
    public func write(_ buffer: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: buffer) }
    public func finish() throws { finished = true }
}

/// Serves bytes from memory.
public final class MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public convenience init(_ data: Data) { self.init([UInt8](data)) }
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset)
        if n <= 0 { return 0 }
        bytes.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + offset, byteCount: n)
        }
        offset += n
        return n
    }
}

/// Passes bytes through to `downstream` while computing their SHA-256 and counting them:
/// the diffID is a hashing sink before the compressor, the digest one after it.
public final class HashingSink: ByteSink {
    private let downstream: ByteSink?
    private var hasher: SHA256Hasher? = SHA256Hasher()
    public private(set) var count: Int64 = 0
    private var result: Digest?

    public init(_ downstream: ByteSink?) { self.downstream = downstream }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        hasher?.update(bytes)
        count += Int64(bytes.count)
        try downstream?.write(bytes)
    }

    public func finish() throws {
        try downstream?.finish()
        if result == nil, let h = hasher.take() {
            result = h.finalize()
        }
    }

    /// The digest of everything written; valid after `finish()`.
    public var digest: Digest {
        result ?? Digest(algorithm: "sha256", encoded: String(repeating: "0", count: 64))
    }
}

/// Hashes and counts the bytes pulled through it.
public final class HashingSource: ByteSource {
    private let upstream: ByteSource
    private var hasher: SHA256Hasher? = SHA256Hasher()
    public private(set) var count: Int64 = 0
    private var result: Digest?

    public init(_ upstream: ByteSource) { self.upstream = upstream }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try upstream.read(into: buffer)
        if n > 0 {
            hasher?.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            count += Int64(n)
        }
        return n
    }

    /// Finishes the hash: call after the stream has been read to its end.
    public func finalize() -> Digest {
        if let result { return result }
        guard let h = hasher.take() else { return Digest.sha256(Data()) }
        let d = h.finalize()
        result = d
        return d
    }
}
