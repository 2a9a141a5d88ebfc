import CZlib
import Foundation

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
