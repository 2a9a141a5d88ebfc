import CZstd
import Foundation

/// Streaming zstd compression. With `threads` > 0 libzstd compresses on worker threads; the
/// worker count is always at least 1 because zstd's output is identical for every count >= 1
/// but differs from single-threaded mode, and layer digests must not depend on the machine.
public final class ZstdCompressor: ByteSink {
    private let downstream: ByteSink
    private let context: OpaquePointer
    private let out: UnsafeMutableRawBufferPointer
    private var finished = false

    public init(into downstream: ByteSink, level: Int = 3, threads: Int = 0) throws {
        guard let ctx = ZSTD_createCCtx() else {
            throw ArchiveError.codec(format: "zstd", message: "cannot create a compression context")
        }
        self.downstream = downstream
        self.context = ctx
        self.out = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 16)
        ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, Int32(level))
        ZSTD_CCtx_setParameter(ctx, ZSTD_c_checksumFlag, 1)
        let workers = threads > 0 ? threads : ZstdCompressor.defaultWorkers
        // Fails harmlessly (single-threaded) if libzstd was built without threads.
        ZSTD_CCtx_setParameter(ctx, ZSTD_c_nbWorkers, Int32(workers))
        // Jobs of 2 MiB instead of the default 4 windows (8 MiB at level 3) keep the peak
        // memory of a multi-threaded compression around 20 MiB; the output stays independent
        // of the worker count because the job size is fixed.
        ZSTD_CCtx_setParameter(ctx, ZSTD_c_jobSize, Int32(ZstdCompressor.jobSize))
    }

    static let jobSize = 2 << 20

    static var defaultWorkers: Int { max(1, min(4, ProcessInfo.processInfo.activeProcessorCount)) }

    deinit {
        ZSTD_freeCCtx(context)
        out.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        try run(bytes, end: false)
    }

    public func finish() throws {
        guard !finished else { return }
        finished = true
        try run(UnsafeRawBufferPointer(start: nil, count: 0), end: true)
        try downstream.finish()
    }

    private func run(_ bytes: UnsafeRawBufferPointer, end: Bool) throws {
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        while true {
            var output = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
            let remaining = ZSTD_compressStream2(context, &output, &input, end ? ZSTD_e_end : ZSTD_e_continue)
            if ZSTD_isError(remaining) != 0 {
                throw ArchiveError.codec(format: "zstd", message: String(cString: ZSTD_getErrorName(remaining)))
            }
            if output.pos > 0 {
                try downstream.write(UnsafeRawBufferPointer(rebasing: out[0..<output.pos]))
            }
            if end {
                if remaining == 0 { return }
            } else if input.pos == input.size {
                return
            }
        }
    }
}

/// Streaming zstd decompression (several concatenated frames are fine; skippable frames are
/// skipped by libzstd). A stream that stops inside a frame is reported as truncated.
public final class ZstdDecompressor: ByteSource {
    private let upstream: ByteSource
    private let context: OpaquePointer
    private let input: UnsafeMutableRawBufferPointer
    private var inBuffer = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
    private var inputEOF = false
    /// zstd's hint: 0 means a frame has just been completed.
    private var lastHint = 0
    private var sawInput = false

    public init(from upstream: ByteSource) throws {
        guard let ctx = ZSTD_createDCtx() else {
            throw ArchiveError.codec(format: "zstd", message: "cannot create a decompression context")
        }
        self.upstream = upstream
        self.context = ctx
        self.input = .allocate(byteCount: ZSTD_DStreamInSize(), alignment: 16)
        // Layers are written with windows up to 128 MiB by `zstd --long`; allow that, no more.
        ZSTD_DCtx_setParameter(ctx, ZSTD_d_windowLogMax, 27)
    }

    deinit {
        ZSTD_freeDCtx(context)
        input.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if buffer.count == 0 { return 0 }
        while true {
            if inBuffer.pos == inBuffer.size && !inputEOF {
                let n = try upstream.read(into: input)
                if n == 0 {
                    inputEOF = true
                } else {
                    sawInput = true
                }
                inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: n, pos: 0)
            }
            if inBuffer.pos == inBuffer.size && inputEOF {
                if !sawInput || lastHint == 0 { return 0 }
                // Output still held inside the context is flushed by calls with no input.
                var output = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
                let hint = ZSTD_decompressStream(context, &output, &inBuffer)
                if ZSTD_isError(hint) != 0 {
                    throw ArchiveError.codec(format: "zstd", message: String(cString: ZSTD_getErrorName(hint)))
                }
                lastHint = hint
                if output.pos > 0 { return output.pos }
                if hint != 0 { throw ArchiveError.truncatedCompressedStream(format: "zstd") }
                return 0
            }
            var output = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
            let hint = ZSTD_decompressStream(context, &output, &inBuffer)
            if ZSTD_isError(hint) != 0 {
                throw ArchiveError.codec(format: "zstd", message: String(cString: ZSTD_getErrorName(hint)))
            }
            lastHint = hint
            if output.pos > 0 { return output.pos }
        }
    }
}
