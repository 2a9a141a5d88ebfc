import Foundation

/// Reads a layer's entries without extracting it (for analysis: sizes, whiteouts, wasted
/// space), from a blob of any compression. It also computes the layer's diffID as it goes, so
/// a caller can check a blob against an image config while reading it.
public final class LayerReader {
    public let compression: LayerCompression
    private let hashing: HashingSource
    private let tar: TarReader

    /// Opens a blob file; compression is detected from its first bytes.
    public convenience init(blob path: String) throws {
        try self.init(stream: FileSource(path: path))
    }

    public init(stream: ByteSource) throws {
        let decompressed = try AutoDecompressor(from: stream)
        compression = decompressed.compression
        hashing = HashingSource(decompressed)
        tar = TarReader(source: hashing)
    }

    /// The next entry (its `isWhiteout`, `whiteoutTarget` and `isOpaqueWhiteout` tell what a
    /// whiteout removes), or nil at the end of the layer.
    public func next() throws -> TarEntry? { try tar.next() }

    /// Reads the current entry's data.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try tar.read(into: buffer) }

    /// The current entry's data, in memory (capped).
    public func readData(limit: Int = 64 << 20) throws -> [UInt8] { try tar.readData(limit: limit) }

    /// Calls `body` for every remaining entry.
    public func forEach(_ body: (TarEntry) throws -> Void) throws {
        while let e = try next() { try body(e) }
    }

    /// Reads to the end of the stream and returns the diffID (sha256 of the uncompressed tar)
    /// and its size. Call after the last entry (or instead of iterating).
    public func finish() throws -> (diffID: Digest, uncompressedSize: Int64) {
        while try next() != nil {}
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { scratch.deallocate() }
        while try hashing.read(into: scratch) > 0 {}
        return (hashing.finalize(), hashing.count)
    }

    /// Summary of a blob: its diffID, uncompressed size, compression and entry count.
    public static func summarize(blob path: String) throws -> LayerSummary {
        let reader = try LayerReader(blob: path)
        var entries = 0
        var whiteouts = 0
        var fileBytes: Int64 = 0
        while let e = try reader.next() {
            entries += 1
            if e.isWhiteout { whiteouts += 1 } else if e.kind == .regular { fileBytes += e.size }
        }
        let (diffID, size) = try reader.finish()
        return LayerSummary(diffID: diffID, uncompressedSize: size, compression: reader.compression,
                            entries: entries, whiteouts: whiteouts, fileBytes: fileBytes)
    }
}

/// What `LayerReader.summarize` finds.
public struct LayerSummary: Sendable, Hashable {
    public var diffID: Digest
    public var uncompressedSize: Int64
    public var compression: LayerCompression
    public var entries: Int
    public var whiteouts: Int
    /// Sum of regular files' sizes.
    public var fileBytes: Int64
}
