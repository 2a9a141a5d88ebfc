import OCI
import Foundation

/// What a request sends.
public enum RequestBody: Sendable {
    case none
    case data(Data)
    /// Streamed from disk in chunks (a 1 GB PUT does not load 1 GB); its length is the file's size.
    /// With `digest`, the bytes are hashed as they go out and the upload fails at its end
    /// (`StoreError.corruptBlob`) when they do not hash to it: a corrupt store blob is never
    /// completed on the registry.
    case file(URL, digest: Digest? = nil)
}

/// One HTTP request for `HTTPTransport`.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: URL
    /// In the order given; `setHeader` replaces a name case-insensitively.
    public private(set) var headers: [(name: String, value: String)] = []
    public var body: RequestBody
    /// A limit on the whole request, in seconds; nil relies on the transport's stall detection,
    /// which is what long downloads want.
    public var timeout: TimeInterval?

    public init(method: String = "GET", url: URL, headers: [String: String] = [:], body: RequestBody = .none,
                timeout: TimeInterval? = nil) {
        self.method = method
        self.url = url
        self.body = body
        self.timeout = timeout
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { setHeader(name, value) }
    }

    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
        headers.append((name, value))
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// A finished response (after redirects: the final one). `body` holds the payload unless a sink
/// consumed it.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lowercased; a repeated header keeps its first value.
    public var headers: [String: String]
    public var body: Data
    /// Where the response came from (the last redirect's target).
    public var url: URL

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Receives a response body as it arrives, instead of collecting it in memory. Called on the
/// transfer's own thread, in order.
public protocol ResponseSink: AnyObject, Sendable {
    /// Sees the final response's status and headers first. Return false to have the body
    /// collected in memory instead (error payloads).
    func begin(status: Int, headers: [String: String]) throws -> Bool
    /// Each chunk, in order. Throwing aborts the transfer with that error.
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// Reason phrases for the statuses registries answer with, for error messages when the body
/// says nothing.
public enum HTTPStatusText {
    public static func reason(_ status: Int) -> String {
        switch status {
        case 400: return "bad request"
        case 401: return "unauthorized"
        case 403: return "forbidden"
        case 404: return "not found"
        case 405: return "method not allowed"
        case 408: return "request timeout"
        case 409: return "conflict"
        case 413: return "payload too large"
        case 416: return "range not satisfiable"
        case 429: return "too many requests"
        case 500: return "internal server error"
        case 501: return "not implemented"
        case 502: return "bad gateway"
        case 503: return "service unavailable"
        case 504: return "gateway timeout"
        default: return "HTTP \(status)"
        }
    }
}
