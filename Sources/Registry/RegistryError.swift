import Foundation
import System
import HTTP
import OCI

/// Everything that can go wrong talking to a registry, with enough context to act on.
public enum RegistryError: Error, CustomStringConvertible, LocalizedError, Sendable {
    /// A registry or repository name that cannot be turned into a URL.
    case invalidName(String, reason: String)
    /// The registry answered with an unexpected status. `body` is the (truncated) error payload.
    case httpStatus(Int, method: String, url: String, body: String, retryAfter: Double?)
    /// 401/403 that credentials could not fix.
    case unauthorized(registry: String, detail: String)
    /// The token endpoint failed or answered something unusable.
    case tokenRequestFailed(realm: String, detail: String)
    /// Bytes that do not hash to the digest they were asked for. Nothing was stored.
    case digestMismatch(expected: Digest, actual: Digest, what: String)
    /// The registry returned more (or fewer) bytes than the descriptor says.
    case sizeMismatch(expected: Int64, actual: Int64, what: String)
    /// A response that violates the distribution API (missing Location, unreadable JSON...).
    case protocolViolation(String)
    /// A manifest or blob the registry does not have.
    case notFound(what: String, registry: String, repository: String)
    /// A transport failure (connection refused/reset, timeout), after the retries ran out.
    case transport(String, url: String)
    /// TLS could not be established (untrusted certificate, wrong host name, plain HTTP on the
    /// other end). Not retried: another attempt meets the same certificate.
    case tls(String, url: String)
    /// An index with no entry for the requested platform.
    case noMatchingPlatform(wanted: String, available: [String])
    /// Reading or writing the docker credentials file failed.
    case credentialsFile(path: String, detail: String)
    /// Local file I/O while streaming a blob.
    case io(String)
    /// A failed system call on a local file (a download's temp file, a local cache directory).
    case system(SystemError)

    public var description: String {
        switch self {
        case .invalidName(let name, let reason):
            return "invalid name '\(name)': \(reason)"
        case .httpStatus(let status, let method, let url, let body, _):
            let detail = body.isEmpty ? "" : ": \(body)"
            return "\(method) \(url) failed with HTTP \(status)\(detail)"
        case .unauthorized(let registry, let detail):
            return "not authorized at \(registry) (\(detail)); run 'slipway login \(registry)' with valid credentials"
        case .tokenRequestFailed(let realm, let detail):
            return "could not get a token from \(realm): \(detail)"
        case .digestMismatch(let expected, let actual, let what):
            return "\(what) does not match its digest: expected \(expected), got \(actual); the data was discarded"
        case .sizeMismatch(let expected, let actual, let what):
            return "\(what) has the wrong size: expected \(expected) bytes, got \(actual); the data was discarded"
        case .protocolViolation(let detail):
            return "registry protocol error: \(detail)"
        case .notFound(let what, let registry, let repository):
            return "\(what) not found in \(registry)/\(repository)"
        case .transport(let detail, let url):
            return "network error for \(url): \(detail)"
        case .tls(let detail, let url):
            return "TLS error for \(url): \(detail)"
        case .noMatchingPlatform(let wanted, let available):
            return "no image for platform \(wanted) in the index (available: \(available.joined(separator: ", "))); choose one with --platform"
        case .credentialsFile(let path, let detail):
            return "credentials file \(path): \(detail)"
        case .io(let detail):
            return detail
        case .system(let e):
            return e.description
        }
    }

    public var errorDescription: String? { description }

    /// The registry's view of an HTTP-layer failure: the same transport, TLS, protocol or I/O
    /// trouble, now retried and reported as a registry error.
    public init(_ error: HTTPError) {
        switch error {
        case .transport(let detail, let url): self = .transport(detail, url: url)
        case .tls(let detail, let url): self = .tls(detail, url: url)
        case .protocolViolation(let detail): self = .protocolViolation(detail)
        case .io(let detail): self = .io(detail)
        case .system(let e): self = .system(e)
        }
    }

    /// Runs one HTTP exchange, turning `HTTPError`s into `RegistryError`s (so that retries and
    /// messages treat them as the registry's).
    static func wrapping<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as HTTPError { throw RegistryError(e) }
    }

    /// Failures worth another attempt: connection trouble, 429 and 5xx.
    var isTransient: Bool {
        switch self {
        case .httpStatus(let status, _, _, _, _):
            return status == 429 || status == 408 || (500...599).contains(status) && status != 501
        case .transport(let detail, _):
            // A name that does not resolve will not resolve a second later either: fail at once
            // (an offline build host asking Docker Hub for a base should not wait for backoff).
            return !detail.hasPrefix("unknown host")
        default:
            return false
        }
    }
}
