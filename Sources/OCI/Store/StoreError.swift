import System
/// Errors of the local image store. Each names the path, digest or reference concerned.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    /// A failed system call (its `SystemError`: what was tried, on what, the C error).
    case system(SystemError)
    case digestMismatch(expected: Digest, actual: Digest, what: String)
    case sizeMismatch(expected: Int64, actual: Int64, what: String)
    case blobMissing(Digest)
    /// A stored blob does not hold what its digest says (found on the way out: save, push,
    /// --output, or unpacking for a build or run). `what` names the image and the layer.
    case corruptBlob(Digest, what: String, cause: String)
    /// A layer blob's uncompressed content does not hash to the diff ID its image config
    /// records (found unpacking it into the snapshot every image with that diff ID shares).
    case diffIDMismatch(layer: Digest, expected: Digest, actual: Digest)
    case imageNotFound(String)
    case ambiguous(String, matches: Int)
    case conflict(String)
    case database(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .system(let e):
            return e.description
        case .digestMismatch(let expected, let actual, let what):
            return "\(what): content digest is \(actual) but \(expected) was expected (corrupt or tampered content)"
        case .sizeMismatch(let expected, let actual, let what):
            return "\(what): content is \(actual) bytes but \(expected) were expected (truncated or corrupt content)"
        case .blobMissing(let d):
            return "blob \(d) is not in the store"
        case .corruptBlob(let d, let what, let cause):
            return "\(what): the store's copy of blob \(d) is corrupt (\(cause)); run `slipway fsck` to list what is damaged and `slipway fsck --repair` to drop it, then pull, load or build the image again"
        case .diffIDMismatch(let layer, let expected, let actual):
            return "layer \(layer) unpacks to diffID \(actual), but the image config records \(expected): "
                + "the image is corrupt or was written wrongly; re-pull or re-import it"
        case .imageNotFound(let s):
            return "no such image: \(s)"
        case .ambiguous(let s, let n):
            return "'\(s)' matches \(n) images; give more digits of the image ID or a name"
        case .conflict(let s):
            return s
        case .database(let s):
            return "store index: \(s)"
        case .invalid(let s):
            return s
        }
    }
}

extension StoreError {
    /// A failed call on `path`, as `SystemError` words it.
    public static func io(path: String, operation: String, errno: Int32) -> StoreError {
        .system(SystemError(operation: operation, path: path, errno: errno))
    }

    /// Runs `body` (calls into `System`'s file helpers), reporting a failed call as the store's
    /// error (`.system`); other errors (a callback's) pass through.
    static func wrapping<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as SystemError { throw StoreError.system(e) }
    }

    /// `error` as met reading the stored blob `digest` (unpacking, decompressing): content
    /// damage (a corrupt or truncated stream, a bad tar header) becomes `corruptBlob` naming
    /// `what` and the fsck hint; anything else (a full disk while writing, a cancelled build) is
    /// returned unchanged.
    public static func readingBlob(_ error: any Error, _ digest: Digest, what: String) -> any Error {
        guard let e = error as? ArchiveError else {
            if case StoreError.digestMismatch(_, let actual, _)? = error as? StoreError {
                return StoreError.corruptBlob(digest, what: what, cause: "it unpacks to content with digest \(actual)")
            }
            return error
        }
        switch e {
        case .codec, .truncatedCompressedStream, .truncated, .badHeader, .unsupported:
            return StoreError.corruptBlob(digest, what: what, cause: e.description)
        default:
            return error
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
