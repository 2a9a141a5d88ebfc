import Foundation

/// How a layer's tar stream is compressed.
public enum LayerCompression: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case none
    case gzip
    case zstd

    public var description: String { rawValue }

    /// Identifies the compression of a stream from its first bytes (at least 4 are needed).
    /// Anything that is neither gzip (`1f 8b`) nor zstd (`28 b5 2f fd`) is taken as a plain tar.
    public static func detect(magic bytes: UnsafeRawBufferPointer) -> LayerCompression {
        if bytes.count >= 2, bytes[0] == 0x1f, bytes[1] == 0x8b { return .gzip }
        if bytes.count >= 4, bytes[0] == 0x28, bytes[1] == 0xb5, bytes[2] == 0x2f, bytes[3] == 0xfd {
            return .zstd
        }
        return .none
    }

    public static func detect(magic bytes: [UInt8]) -> LayerCompression {
        bytes.withUnsafeBytes { detect(magic: $0) }
    }

    /// Reads the first bytes of a file to identify its compression.
    public static func detect(file path: String) throws -> LayerCompression {
        let source = try FileSource(path: path)
        var magic = [UInt8](repeating: 0, count: 4)
        var got = 0
        try magic.withUnsafeMutableBytes { buf in
            while got < 4 {
                let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buf[got...]))
                if n == 0 { break }
                got += n
            }
        }
        return detect(magic: Array(magic[0..<got]))
    }

    /// The OCI layer media type for this compression.
    public var ociMediaType: String {
        switch self {
        case .none: return LayerMediaType.ociTar
        case .gzip: return LayerMediaType.ociTarGzip
        case .zstd: return LayerMediaType.ociTarZstd
        }
    }

    /// Docker's v2 schema 2 layer media type. Docker has no zstd or uncompressed type of its
    /// own; for those the OCI type is returned, which is what BuildKit pushes too.
    public var dockerMediaType: String {
        switch self {
        case .gzip: return LayerMediaType.dockerTarGzip
        case .none, .zstd: return ociMediaType
        }
    }

    /// The compression a layer media type implies; throws for anything that is not a layer.
    public init(mediaType: String) throws {
        switch mediaType {
        case LayerMediaType.ociTar, LayerMediaType.ociNondistributableTar: self = .none
        case LayerMediaType.ociTarGzip, LayerMediaType.dockerTarGzip,
             LayerMediaType.ociNondistributableTarGzip, LayerMediaType.dockerForeignTarGzip:
            self = .gzip
        case LayerMediaType.ociTarZstd, LayerMediaType.ociNondistributableTarZstd: self = .zstd
        default: throw ArchiveError.unknownMediaType(mediaType)
        }
    }

    /// Wraps `sink` so that bytes written to the result arrive compressed in `sink`.
    /// `level` nil means the format's default (gzip 6, zstd 3).
    public func compressor(into sink: ByteSink, level: Int? = nil, threads: Int = 0) throws -> ByteSink {
        switch self {
        case .none: return PassthroughSink(sink)
        case .gzip: return try GzipCompressor(into: sink, level: level ?? 6, threads: threads)
        case .zstd: return try ZstdCompressor(into: sink, level: level ?? 3, threads: threads)
        }
    }

    /// Wraps `source` so that reading from the result yields decompressed bytes.
    public func decompressor(from source: ByteSource) throws -> ByteSource {
        switch self {
        case .none: return source
        case .gzip: return try GzipDecompressor(from: source)
        case .zstd: return try ZstdDecompressor(from: source)
        }
    }
}

/// Layer media types (OCI image spec v1.1 and Docker image manifest v2 schema 2).
public enum LayerMediaType {
    public static let ociTar = "application/vnd.oci.image.layer.v1.tar"
    public static let ociTarGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociTarZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let ociNondistributableTar = "application/vnd.oci.image.layer.nondistributable.v1.tar"
    public static let ociNondistributableTarGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    public static let ociNondistributableTarZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
    public static let dockerTarGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerForeignTarGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    /// Whether `mediaType` names a layer this module can read.
    public static func isLayer(_ mediaType: String) -> Bool {
        (try? LayerCompression(mediaType: mediaType)) != nil
    }
}

/// A sink that forwards unchanged (the "none" compressor).
final class PassthroughSink: ByteSink {
    private let downstream: ByteSink
    init(_ downstream: ByteSink) { self.downstream = downstream }
    func write(_ bytes: UnsafeRawBufferPointer) throws { try downstream.write(bytes) }
    func finish() throws { try downstream.finish() }
}

/// Reads a source whose compression is detected from its first bytes.
public final class AutoDecompressor: ByteSource {
    public let compression: LayerCompression
    private let inner: ByteSource

    public init(from source: ByteSource) throws {
        let peek = PeekableSource(source)
        let magic = try peek.peek(4)
        compression = LayerCompression.detect(magic: magic)
        inner = try compression.decompressor(from: peek)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try inner.read(into: buffer)
    }
}

/// A source that can look at its first bytes without consuming them.
final class PeekableSource: ByteSource {
    private let upstream: ByteSource
    private var pending: [UInt8] = []

    init(_ upstream: ByteSource) { self.upstream = upstream }

    func peek(_ count: Int) throws -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: count)
        while pending.count < count {
            let want = count - pending.count
            let n = try chunk.withUnsafeMutableBytes {
                try upstream.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<want]))
            }
            if n == 0 { break }
            pending.append(contentsOf: chunk[0..<n])
        }
        return pending
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if !pending.isEmpty {
            let n = min(buffer.count, pending.count)
            pending.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: n) }
            pending.removeFirst(n)
            return n
        }
        return try upstream.read(into: buffer)
    }
}
