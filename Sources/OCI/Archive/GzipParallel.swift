import CZlib
import Foundation

/// Streaming gzip compression, in parallel where cores are free. The input is cut into
/// 128 KiB blocks; each is deflated independently with the previous block's last 32 KiB as
/// its dictionary and ends on a byte boundary (Z_SYNC_FLUSH), and the pieces are concatenated
/// into one gzip member: the scheme pigz uses. The output depends only on the input and the
/// level, never on the thread count (one thread runs the same scheme inline), so layer digests
/// are the same on every machine. Memory: a few blocks per worker.
public final class GzipCompressor: ByteSink {
    static let blockSize = 128 * 1024
    static let dictionarySize = 32 * 1024

    private let downstream: ByteSink
    private let level: Int32
    private let workers: Int
    private var block: [UInt8] = []
    private var dictionary: [UInt8] = []
    private var pending: [GzipJob] = []
    private var pool: GzipWorkerPool?
    /// Used when compressing inline (one thread).
    private var inlineStream: GzipDeflater?
    private var crc: uLong = crc32(0, nil, 0)
    private var totalIn: UInt64 = 0
    private var finished = false
    private var wroteHeader = false

    /// `threads` 0 picks the core count (at most 4); 1 compresses on the calling thread.
    public init(into downstream: ByteSink, level: Int = 6, threads: Int = 0) throws {
        self.downstream = downstream
        self.level = Int32(max(1, min(9, level)))
        self.workers = threads > 0 ? threads : max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))
        block.reserveCapacity(Self.blockSize)
    }

    deinit { pool?.stop() }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = min(Self.blockSize - block.count, bytes.count - offset)
            block.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)]))
            offset += n
            if block.count == Self.blockSize { try submit(last: false) }
        }
    }

    public func finish() throws {
        guard !finished else { return }
        finished = true
        try submit(last: true)
        while !pending.isEmpty { try emitOldest() }
        pool?.stop()
        var trailer = [UInt8](repeating: 0, count: 8)
        for i in 0..<4 {
            trailer[i] = UInt8(truncatingIfNeeded: UInt64(crc) >> (8 * UInt64(i)))
            trailer[4 + i] = UInt8(truncatingIfNeeded: totalIn >> (8 * UInt64(i)))
        }
        try downstream.write(trailer)
        try downstream.finish()
    }

    private func submit(last: Bool) throws {
        if !wroteHeader {
            wroteHeader = true
            // Like zlib: no name, mtime 0, XFL 2 for level 9 and 4 for level 1, OS 3 (Unix).
            let xfl: UInt8 = level == 9 ? 2 : (level == 1 ? 4 : 0)
            try downstream.write([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3])
        }
        let job = GzipJob(input: block, dictionary: dictionary, last: last)
        totalIn &+= UInt64(block.count)
        if block.count >= Self.dictionarySize {
            dictionary = Array(block[(block.count - Self.dictionarySize)...])
        }
        block.removeAll(keepingCapacity: true)
        if workers <= 1 {
            if inlineStream == nil { inlineStream = try GzipDeflater(level: level) }
            job.run(with: inlineStream!)
            pending.append(job)
            try emitOldest()
            return
        }
        if pool == nil { pool = try GzipWorkerPool(workers: workers, level: level) }
        pool!.submit(job)
        pending.append(job)
        // Bound memory: at most two blocks per worker in flight.
        while pending.count > 2 * workers { try emitOldest() }
        while let first = pending.first, pool!.isDone(first) { try emitOldest() }
    }

    private func emitOldest() throws {
        let job = pending.removeFirst()
        pool?.wait(for: job)
        if let error = job.error { throw error }
        try downstream.write(job.output)
        crc = crc32_combine(crc, job.crc, numericCast(job.input.count))
        job.release()
    }
}

/// A raw-deflate stream at a fixed heap address (zlib keeps a back pointer to it).
/// Used by one thread at a time: the submitter (inline) or the one worker that owns it.
final class GzipDeflater: @unchecked Sendable {
    let stream: UnsafeMutablePointer<z_stream>

    init(level: Int32) throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = deflateInit2_(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY,
                               ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        if rc != Z_OK {
            stream.deallocate()
            throw ArchiveError.codec(format: "gzip", message: "deflateInit2 failed (\(rc))")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }
}

/// One block's work and result. Fields are written by one worker before `done` is published
/// under the pool's lock, and read by the submitter only after it has seen `done`.
final class GzipJob: @unchecked Sendable {
    private(set) var input: [UInt8]
    private var dictionary: [UInt8]
    let last: Bool
    var output: [UInt8] = []
    var crc: uLong = 0
    var error: ArchiveError?
    var done = false

    init(input: [UInt8], dictionary: [UInt8], last: Bool) {
        self.input = input
        self.dictionary = dictionary
        self.last = last
    }

    func release() {
        input = []
        output = []
        dictionary = []
    }

    func run(with deflater: GzipDeflater) {
        let s = deflater.stream
        deflateReset(s)
        if !dictionary.isEmpty {
            _ = dictionary.withUnsafeBufferPointer {
                deflateSetDictionary(s, $0.baseAddress, uInt($0.count))
            }
        }
        crc = input.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(s, uLong(input.count))) + 64)
        var produced = 0
        let flush = last ? Z_FINISH : Z_SYNC_FLUSH
        input.withUnsafeMutableBufferPointer { inp in
            s.pointee.next_in = inp.baseAddress
            s.pointee.avail_in = uInt(inp.count)
            while true {
                if produced == out.count { out.append(contentsOf: [UInt8](repeating: 0, count: 64 * 1024)) }
                let rc: Int32 = out.withUnsafeMutableBufferPointer { o in
                    s.pointee.next_out = o.baseAddress! + produced
                    s.pointee.avail_out = uInt(o.count - produced)
                    let rc = deflate(s, flush)
                    produced = o.count - Int(s.pointee.avail_out)
                    return rc
                }
                if rc == Z_STREAM_ERROR {
                    error = .codec(format: "gzip", message: "deflate failed")
                    return
                }
                if last ? rc == Z_STREAM_END : (s.pointee.avail_in == 0 && s.pointee.avail_out != 0) { break }
            }
        }
        out.removeSubrange(produced...)
        output = out
    }
}

/// Worker threads that compress submitted blocks.
final class GzipWorkerPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [GzipJob] = []
    private var stopping = false

    init(workers: Int, level: Int32) throws {
        for _ in 0..<workers {
            let deflater = try GzipDeflater(level: level)
            let thread = Thread { [self] in self.work(deflater) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func work(_ deflater: GzipDeflater) {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty {
                condition.unlock()
                return
            }
            let job = queue.removeFirst()
            condition.unlock()
            job.run(with: deflater)
            condition.lock()
            job.done = true
            condition.broadcast()
            condition.unlock()
        }
    }

    func submit(_ job: GzipJob) {
        condition.lock()
        queue.append(job)
        condition.broadcast()
        condition.unlock()
    }

    func isDone(_ job: GzipJob) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return job.done
    }

    func wait(for job: GzipJob) {
        condition.lock()
        while !job.done { condition.wait() }
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }
}
