import Foundation
import System

/// What can go wrong moving bytes over HTTP, below any protocol on top (the registry API, ADD
/// of a URL). Statuses are not errors here: a response of any status is returned, and the layer
/// above decides (`RegistryError` wraps these as its transport failures).
public enum HTTPError: Error, CustomStringConvertible, LocalizedError, Sendable, Equatable {
    /// A transport failure: connection refused or lost, timeout, a stalled transfer.
    case transport(String, url: String)
    /// TLS could not be established (untrusted certificate, wrong host name, plain HTTP on the
    /// other end). Not worth retrying: another attempt meets the same certificate.
    case tls(String, url: String)
    /// A request or response that breaks HTTP (a header with a line break, an absurd header).
    case protocolViolation(String)
    /// Local file I/O for a request body or a download.
    case io(String)
    /// A failed system call on a local file (the body of an upload).
    case system(SystemError)

    public var description: String {
        switch self {
        case .transport(let detail, let url): return "network error for \(url): \(detail)"
        case .tls(let detail, let url): return "TLS error for \(url): \(detail)"
        case .protocolViolation(let detail): return "HTTP protocol error: \(detail)"
        case .io(let detail): return detail
        case .system(let e): return e.description
        }
    }

    public var errorDescription: String? { description }
}
