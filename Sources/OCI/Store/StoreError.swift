/// Errors of the local image store. Each names the path, digest or reference concerned.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    case io(path: String, operation: String, errno: Int32)
    case digestMismatch(expected: Digest, actual: Digest, what: String)
    case sizeMismatch(expected: Int64, actual: Int64, what: String)
    case blobMissing(Digest)
    case imageNotFound(String)
    case ambiguous(String, matches: Int)
    case conflict(String)
    case database(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .io(let path, let op, let e):
            return "\(op) \(path): \(String(cString: strerror(e)))"
        case .digestMismatch(let expected, let actual, let what):
            return "\(what): content digest is \(actual) but \(expected) was expected (corrupt or tampered content)"
        case .sizeMismatch(let expected, let actual, let what):
            return "\(what): content is \(actual) bytes but \(expected) were expected (truncated or corrupt content)"
        case .blobMissing(let d):
            return "blob \(d) is not in the store"
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

#if canImport(Glibc)
import Glibc
#endif
