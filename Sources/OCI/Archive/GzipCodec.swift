import CZlib
import Foundation

/// Streaming gzip compression over zlib. The z_stream lives at a fixed heap address because zlib
/// keeps a back pointer to it. zlib writes a gzip header with mtime 0 and no name, so equal input
/// gives equal output.
public final class GzipCompressor: ByteSink {
    private let downstream: ByteSink
    private let stream: UnsafeMutablePointer<z_stream>
    private let out: UnsafeMutableRawBufferPointer
    private var finished = false

    /// `threads` is accepted for symmetry with zstd; zlib compresses on the calling thread.
    public init(into downstream: ByteSink, level: Int = 6, threads: Int = 0) throws {
        self.downstream = downstream
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        out = .allocate(byteCount: 256 * 1024, alignment: 16)
        let rc = deflateInit2_(stream, Int32(max(0, min(9, level))), Z_DEFLATED, 15 + 16, 8,
                               Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        if rc != Z_OK {
            stream.deallocate()
            out.deallocate()
            throw ArchiveError.codec(format: "gzip", message: "deflateInit2 failed (\(rc))")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
        out.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        try run(bytes, flush: Z_NO_FLUSH)
    }

    public func finish() throws {
        guard !finished else { return }
        finished = true
        try run(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH)
        try downstream.finish()
    }

    private func run(_ bytes: UnsafeRawBufferPointer, flush: Int32) throws {
        // zlib's avail_in is 32-bit: feed huge buffers in slices.
        var offset = 0
        repeat {
            let slice = min(bytes.count - offset, 1 << 30)
            stream.pointee.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress.map {
                ($0 + offset).assumingMemoryBound(to: Bytef.self)
            })
            stream.pointee.avail_in = uInt(slice)
            let last = offset + slice == bytes.count
            let mode = last ? flush : Z_NO_FLUSH
            while true {
                stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(out.count)
                let rc = deflate(stream, mode)
                if rc == Z_STREAM_ERROR { throw ArchiveError.codec(format: "gzip", message: "deflate failed") }
                let produced = out.count - Int(stream.pointee.avail_out)
                if produced > 0 { try downstream.write(UnsafeRawBufferPointer(rebasing: out[0..<produced])) }
                if mode == Z_FINISH {
                    if rc == Z_STREAM_END { break }
                } else if stream.pointee.avail_out != 0 {
                    break
                }
            }
            offset += slice
        } while offset < bytes.count
    }
}

/// Streaming gzip decompression. Handles concatenated gzip members (as pigz and `cat a.gz b.gz`
/// produce) and reports a stream that ends before its trailer as truncated.
public final class GzipDecompressor: ByteSource {
    private let upstream: ByteSource
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    private var inputEOF = false
    private var memberEnded = false
    private var done = false

    public init(from upstream: ByteSource) throws {
        self.upstream = upstream
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = .allocate(byteCount: 256 * 1024, alignment: 16)
        let rc = inflateInit2_(stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        if rc != Z_OK {
            stream.deallocate()
            input.deallocate()
            throw ArchiveError.codec(format: "gzip", message: "inflateInit2 failed (\(rc))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }

    private func refill() throws {
        let n = try upstream.read(into: input)
        if n == 0 { inputEOF = true }
        stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(n)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if done || buffer.count == 0 { return 0 }
        let want = min(buffer.count, Int(UInt32.max))
        while true {
            if stream.pointee.avail_in == 0 && !inputEOF { try refill() }
            if memberEnded {
                // Another gzip member may follow; trailing zero padding is tolerated like gzip -d.
                while stream.pointee.avail_in > 0 && stream.pointee.next_in.pointee == 0 {
                    stream.pointee.next_in += 1
                    stream.pointee.avail_in -= 1
                }
                if stream.pointee.avail_in == 0 {
                    if inputEOF { done = true; return 0 }
                    continue
                }
                inflateReset(stream)
                memberEnded = false
            }
            if stream.pointee.avail_in == 0 && inputEOF {
                throw ArchiveError.truncatedCompressedStream(format: "gzip")
            }
            stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(want)
            let rc = inflate(stream, Z_NO_FLUSH)
            let produced = want - Int(stream.pointee.avail_out)
            switch rc {
            case Z_STREAM_END:
                memberEnded = true
            case Z_OK, Z_BUF_ERROR:
                break
            default:
                let msg = stream.pointee.msg.map { String(cString: $0) } ?? "inflate error \(rc)"
                throw ArchiveError.codec(format: "gzip", message: msg)
            }
            if produced > 0 { return produced }
        }
    }
}
