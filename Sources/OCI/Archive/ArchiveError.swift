import Foundation
import System
#if canImport(Glibc)
import Glibc
#endif

/// Everything that can go wrong reading, writing or applying a layer. Each case names the file
/// or archive entry involved so that the message alone tells the user what to look at.
public enum ArchiveError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// A system call failed (its `SystemError`: what was tried, on what, the C error).
    case system(SystemError)
    /// zlib or zstd reported an error (corrupt or truncated compressed data).
    case codec(format: String, message: String)
    /// The compressed stream stopped before its end marker.
    case truncatedCompressedStream(format: String)
    /// The tar stream ended in the middle of a header or an entry's data.
    case truncated(entry: String?, detail: String)
    /// A header failed its checksum or had a malformed field.
    case badHeader(offset: Int64, detail: String)
    /// A PAX or GNU extension was malformed or unsupported.
    case unsupported(entry: String, detail: String)
    /// An entry would write outside the extraction root, or through a symlink leaving it.
    case unsafePath(entry: String, reason: String)
    /// An entry cannot be represented in a tar archive (e.g. a socket), or a tree is unsuitable.
    case unsupportedFile(path: String, reason: String)
    /// A media type that is not a known layer type.
    case unknownMediaType(String)
    /// Extracting `entry` would take the archive past `LayerApplier.sizeLimit` bytes.
    case sizeLimit(entry: String, limit: Int64)
    /// An output (`OutputFile`) cannot be written at `path`.
    case output(path: String, reason: String)

    /// One line; entry names and paths come from archives, so control characters in them are
    /// shown escaped (`DisplayText`).
    /// A failed system call from `System`'s helpers, as this module reports one.
    public init(_ error: SystemError) {
        self = .system(error)
    }

    /// Runs `body` (calls into `System`'s file helpers), reporting a failed call as this module's
    /// error (`.system`); other errors pass through.
    static func wrapping<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as SystemError { throw ArchiveError.system(e) }
    }

    /// A failed call on `path`.
    public static func io(operation: String, path: String, errno: Int32) -> ArchiveError {
        .system(SystemError(operation: operation, path: path, errno: errno))
    }

    public var description: String { DisplayText.escaped(rawDescription) }

    var rawDescription: String {
        switch self {
        case .system(let e):
            return "\(e.operation) '\(e.path)': \(e.reason)"
        case .codec(let format, let message):
            return "\(format) data is corrupt: \(message)"
        case .truncatedCompressedStream(let format):
            return "\(format) stream is truncated (ended before its end marker)"
        case .truncated(let entry, let detail):
            if let entry { return "tar archive is truncated in entry '\(entry)': \(detail)" }
            return "tar archive is truncated: \(detail)"
        case .badHeader(let offset, let detail):
            return "tar header at byte \(offset) is invalid: \(detail)"
        case .unsupported(let entry, let detail):
            return "tar entry '\(entry)': \(detail)"
        case .unsafePath(let entry, let reason):
            return "refusing tar entry '\(entry)': \(reason)"
        case .unsupportedFile(let path, let reason):
            return "cannot archive '\(path)': \(reason)"
        case .sizeLimit(let entry, let limit):
            return "extracting tar entry '\(entry)' would write more than \(limit) bytes, the limit for this extraction"
        case .output(let path, let reason):
            return path == "-" ? reason : "cannot write '\(path)': \(reason)"
        case .unknownMediaType(let m):
            return "unknown layer media type '\(m)' (expected an OCI or Docker layer tar, optionally +gzip or +zstd)"
        }
    }

    public var errorDescription: String? { description }
}
