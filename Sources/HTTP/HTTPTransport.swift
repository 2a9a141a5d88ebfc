import Foundation

/// Which certificate authorities HTTPS trusts. Defaults to libcurl's system bundle
/// (/etc/ssl/certs/ca-certificates.crt on Debian).
public struct TLSTrust: Sendable {
    /// A PEM file of CA certificates (CURLOPT_CAINFO); replaces the system bundle.
    public var caFile: String?
    /// A directory of hashed CA certificates, as made by `c_rehash` (CURLOPT_CAPATH).
    public var caDirectory: String?

    public init(caFile: String? = nil, caDirectory: String? = nil) {
        self.caFile = caFile
        self.caDirectory = caDirectory
    }

    /// `SSL_CERT_FILE` (else `CURL_CA_BUNDLE`) and `SSL_CERT_DIR`, as OpenSSL, Go and curl read them.
    public static var environment: TLSTrust {
        let env = ProcessInfo.processInfo.environment
        func value(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }
        return TLSTrust(caFile: value("SSL_CERT_FILE") ?? value("CURL_CA_BUNDLE"), caDirectory: value("SSL_CERT_DIR"))
    }
}

/// HTTP(S) over libcurl, loaded with dlopen on the first request (see Sources/CCurl). Each
/// transfer runs `curl_easy_perform` on a thread of its own, so a slow registry never holds a
/// thread of the Swift cooperative pool; bodies stream to a `ResponseSink` (files, hashing) or
/// are collected up to `memoryLimit`.
public final class HTTPTransport: Sendable {
    /// Timeouts and trust, fixed per transport.
    public struct Settings: Sendable {
        /// Seconds to establish a connection (TCP and TLS).
        public var connectTimeout: TimeInterval
        /// Seconds without a single byte moving, in either direction, before a request fails as
        /// stalled; a healthy transfer may take as long as it needs.
        public var stallTimeout: TimeInterval
        public var trust: TLSTrust
        /// Idle easy handles (each with its keep-alive connections) kept for reuse.
        public var pooledHandles: Int

        public init(connectTimeout: TimeInterval = 15, stallTimeout: TimeInterval = 30,
                    trust: TLSTrust = .environment, pooledHandles: Int = 8) {
            self.connectTimeout = connectTimeout
            self.stallTimeout = stallTimeout
            self.trust = trust
            self.pooledHandles = pooledHandles
        }
    }

    /// The largest body collected in memory (manifests are at most 4 MiB by the spec).
    static let memoryLimit = 16 << 20

    public let settings: Settings
    private let pool: CurlHandlePool

    /// Creating a transport does not load libcurl; the first request does.
    public init(settings: Settings = Settings()) {
        self.settings = settings
        pool = CurlHandlePool(capacity: settings.pooledHandles)
    }

    /// Sends one request. HTTP statuses are returned, not thrown; transport failures throw
    /// `HTTPError.transport` (or `.tls`), task cancellation `CancellationError`.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await send(request, sink: nil)
    }

    /// Downloads the body of a 2xx response into a new file at `path` (mode 0600, must not
    /// exist); other statuses leave no file and return their body in the response.
    public func download(_ request: HTTPRequest, to path: String) async throws -> HTTPResponse {
        let sink = try DownloadSink(path: path)
        do {
            let response = try await send(request, sink: sink)
            if !(200..<300).contains(response.status) { unlink(path) }
            return response
        } catch {
            sink.abandon()
            throw error
        }
    }

    /// Sends one request, streaming a 2xx body into `sink` (nil: collected in the response).
    public func send(_ request: HTTPRequest, sink: ResponseSink?) async throws -> HTTPResponse {
        try Task.checkCancellation()
        let transfer = CurlTransfer(request: request, sink: sink, settings: settings)
        let pool = self.pool
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, Error>) in
                let thread = Thread {
                    continuation.resume(with: Result {
                        let handle = try pool.take(url: request.url.absoluteString)
                        defer { pool.put(handle) }
                        return try transfer.perform(on: handle)
                    })
                }
                thread.name = "slipway-http"
                thread.start()
            }
        } onCancel: {
            transfer.cancel()
        }
    }
}
