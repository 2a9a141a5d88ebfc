import Foundation
import Testing
@testable import OCI

@Suite("Archive codecs")
struct ArchiveCodecTests {
    /// Half compressible text, half random (alternating 4 KiB blocks), so codecs do real work.
    /// Built a block at a time: a random call per byte took seconds of a test thread in debug.
    static func sample(_ count: Int) -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        let words = Array("the quick brown fox jumps over the lazy dog ".utf8)
        let text = (0..<4096).map { words[$0 % words.count] }
        var out = [UInt8]()
        out.reserveCapacity(count + 4096)
        var random = [UInt64](repeating: 0, count: 512)
        while out.count < count {
            out += text
            for i in random.indices { random[i] = rng.next() }
            random.withUnsafeBytes { out += $0 }
        }
        return Array(out.prefix(count))
    }

    @Test("compress/decompress round trip", arguments: LayerCompression.allCases)
    func roundTrip(compression: LayerCompression) throws {
        let input = Self.sample(3 << 20 + 123)
        let sink = MemorySink()
        let c = try compression.compressor(into: sink)
        // Odd-sized writes exercise buffering.
        var i = 0
        var step = 1
        while i < input.count {
            let n = min(step, input.count - i)
            try input[i..<(i + n)].withUnsafeBytes { try c.write($0) }
            i += n
            step = step * 3 + 1
            if step > 1 << 20 { step = 7 }
        }
        try c.finish()
        #expect(sink.finished)
        if compression != .none { #expect(sink.bytes.count < input.count) }
        #expect(LayerCompression.detect(magic: Array(sink.bytes.prefix(4))) == compression)
        let back = try AutoDecompressor(from: MemorySource(sink.bytes))
        #expect(back.compression == compression)
        #expect(try back.readAll() == input)
    }

    @Test("interoperates with the gzip and zstd command-line tools")
    func cliInterop() async throws {
        let dir = ScratchDir("codec")
        let input = Self.sample(1 << 20)
        try Data(input).write(to: URL(fileURLWithPath: dir.path + "/plain"))
        for (compression, cmd) in [(LayerCompression.gzip, "gzip -dc"), (.zstd, "zstd -dc")] {
            let sink = MemorySink()
            let c = try compression.compressor(into: sink)
            try c.write(input)
            try c.finish()
            try Data(sink.bytes).write(to: URL(fileURLWithPath: dir.path + "/c"))
            try await shell("\(cmd) < \(dir.path)/c | cmp - \(dir.path)/plain")
        }
        try await shell("gzip -6 -c \(dir.path)/plain > \(dir.path)/p.gz; cat \(dir.path)/p.gz \(dir.path)/p.gz > \(dir.path)/two.gz; zstd -q -3 -c \(dir.path)/plain > \(dir.path)/p.zst")
        let gz = try AutoDecompressor(from: FileSource(path: dir.path + "/two.gz"))
        #expect(try gz.readAll() == input + input)   // concatenated members
        let zs = try AutoDecompressor(from: FileSource(path: dir.path + "/p.zst"))
        #expect(try zs.readAll() == input)
    }

    @Test("truncated compressed input is reported", arguments: [LayerCompression.gzip, .zstd])
    func truncated(compression: LayerCompression) throws {
        let sink = MemorySink()
        let c = try compression.compressor(into: sink)
        try c.write(Self.sample(1 << 20))
        try c.finish()
        let cut = Array(sink.bytes.prefix(sink.bytes.count / 2))
        #expect(throws: ArchiveError.truncatedCompressedStream(format: compression.rawValue)) {
            _ = try AutoDecompressor(from: MemorySource(cut)).readAll()
        }
    }

    @Test("zstd output does not depend on the worker count")
    func zstdDeterministicAcrossThreads() throws {
        let input = Self.sample(9 << 20)
        var outputs: [[UInt8]] = []
        for threads in [1, 2, 3] {
            let sink = MemorySink()
            let c = try ZstdCompressor(into: sink, level: 3, threads: threads)
            try c.write(input)
            try c.finish()
            outputs.append(sink.bytes)
        }
        #expect(outputs[0] == outputs[1])
        #expect(outputs[1] == outputs[2])
    }

    @Test("gzip output does not depend on the thread count, and gzip -d reads it")
    func gzipDeterministicAcrossThreads() async throws {
        let dir = ScratchDir("codec")
        let input = Self.sample(3 << 20 + 777)
        var outputs: [[UInt8]] = []
        for threads in [1, 2, 4] {
            let sink = MemorySink()
            let c = try GzipCompressor(into: sink, level: 6, threads: threads)
            try c.write(input)
            try c.finish()
            outputs.append(sink.bytes)
        }
        #expect(outputs[0] == outputs[1])
        #expect(outputs[1] == outputs[2])
        try Data(outputs[0]).write(to: URL(fileURLWithPath: dir.path + "/p.gz"))
        try Data(input).write(to: URL(fileURLWithPath: dir.path + "/plain"))
        try await shell("gzip -t \(dir.path)/p.gz && gzip -dc \(dir.path)/p.gz | cmp - \(dir.path)/plain")
    }

    @Test("empty input round trips", arguments: LayerCompression.allCases)
    func empty(compression: LayerCompression) throws {
        let sink = MemorySink()
        let c = try compression.compressor(into: sink)
        try c.finish()
        #expect(try AutoDecompressor(from: MemorySource(sink.bytes)).readAll() == [])
    }

    @Test("media types map to compressions")
    func mediaTypes() throws {
        #expect(try LayerCompression(mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip") == .gzip)
        #expect(try LayerCompression(mediaType: "application/vnd.oci.image.layer.v1.tar+zstd") == .zstd)
        #expect(try LayerCompression(mediaType: "application/vnd.oci.image.layer.v1.tar") == .none)
        #expect(LayerCompression.gzip.ociMediaType == "application/vnd.oci.image.layer.v1.tar+gzip")
        #expect(throws: ArchiveError.unknownMediaType("text/plain")) { try LayerCompression(mediaType: "text/plain") }
    }
}
