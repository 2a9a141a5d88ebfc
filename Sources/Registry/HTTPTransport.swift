import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What a request sends.
enum RequestBody: Sendable {
    case none
    case data(Data)
    /// Streamed from disk (URLSession reads it in chunks; a 1 GB PUT does not load 1 GB).
    case file(URL)
}

/// A finished response. `body` holds the payload unless a sink consumed it.
struct HTTPResponse: Sendable {
    var status: Int
    /// Header names lowercased.
    var headers: [String: String]
    var body: Data
    var url: URL

    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Receives a response body as it arrives, instead of collecting it in memory.
protocol ResponseSink: AnyObject, Sendable {
    /// Sees the status and headers first. Return false to have the body collected in memory
    /// instead (error payloads).
    func begin(status: Int, headers: [String: String]) throws -> Bool
    /// Each chunk, in order. Throwing cancels the transfer.
    func write(_ data: Data) throws
}

/// URLSession with one delegate that routes each task's callbacks to its own state, so bodies
/// can be streamed to files and hashed while they arrive.
final class HTTPTransport: Sendable {
    /// Several sessions, each with its own serial delegate queue: a task's chunks must arrive in
    /// order, but concurrent layer downloads should not share one thread for writing and hashing.
    private let sessions: [URLSession]
    private let router: TransferRouter
    private let next = NSLock()
    nonisolated(unsafe) private var counter = 0

    /// The largest body collected in memory (manifests are at most 4 MiB by the spec).
    static let memoryLimit = 16 << 20

    init(requestTimeout: TimeInterval = 120, maxConnectionsPerHost: Int = 8, lanes: Int = 4) {
        let config = URLSessionConfiguration.ephemeral
        config.urlCache = nil
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        config.timeoutIntervalForRequest = requestTimeout
        config.timeoutIntervalForResource = 24 * 3600
        config.httpMaximumConnectionsPerHost = maxConnectionsPerHost
        config.httpShouldSetCookies = false
        let router = TransferRouter()
        self.router = router
        self.sessions = (0..<max(1, lanes)).map { lane in
            let queue = OperationQueue()
            queue.maxConcurrentOperationCount = 1
            queue.name = "slipway.registry.http.\(lane)"
            return URLSession(configuration: config, delegate: router, delegateQueue: queue)
        }
    }

    deinit {
        for session in sessions { session.finishTasksAndInvalidate() }
    }

    private var session: URLSession {
        next.withLock {
            counter &+= 1
            return sessions[counter % sessions.count]
        }
    }

    /// Sends one request. Transport failures become `RegistryError.transport`; HTTP statuses are
    /// returned, not thrown.
    func send(_ request: URLRequest, body: RequestBody = .none, sink: ResponseSink? = nil) async throws -> HTTPResponse {
        let state = TransferState(sink: sink)
        let session = self.session
        let task: URLSessionTask
        switch body {
        case .none:
            task = session.dataTask(with: request)
        case .data(let data):
            task = session.uploadTask(with: request, from: data)
        case .file(let url):
            task = session.uploadTask(with: request, fromFile: url)
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, Error>) in
                state.setContinuation(continuation)
                router.register(task, state)
                task.resume()
            }
        } onCancel: {
            task.cancel()
        }
    }
}

/// Per-task progress; touched from the delegate queue, published through the continuation.
private final class TransferState: @unchecked Sendable {
    private let lock = NSLock()
    let sink: ResponseSink?
    var response: HTTPURLResponse?
    var collected = Data()
    var streaming = false
    var failure: Error?
    /// FoundationNetworking turned a 401 into an authentication challenge, which we decline:
    /// the client answers challenges itself, from the 401 response already received.
    var declinedChallenge = false
    private var continuation: CheckedContinuation<HTTPResponse, Error>?

    init(sink: ResponseSink?) { self.sink = sink }

    func setContinuation(_ c: CheckedContinuation<HTTPResponse, Error>) {
        lock.withLock { continuation = c }
    }

    func finish(_ result: Result<HTTPResponse, Error>) {
        let c: CheckedContinuation<HTTPResponse, Error>? = lock.withLock {
            defer { continuation = nil }
            return continuation
        }
        c?.resume(with: result)
    }
}

private final class TransferRouter: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let lock = NSLock()
    // Keyed by task object: task identifiers are only unique within one session.
    private var states: [ObjectIdentifier: TransferState] = [:]

    func register(_ task: URLSessionTask, _ state: TransferState) {
        lock.withLock { states[ObjectIdentifier(task)] = state }
    }

    private func state(_ task: URLSessionTask) -> TransferState? {
        lock.withLock { states[ObjectIdentifier(task)] }
    }

    private func remove(_ task: URLSessionTask) -> TransferState? {
        lock.withLock { states.removeValue(forKey: ObjectIdentifier(task)) }
    }

    static func headers(_ response: HTTPURLResponse) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in response.allHeaderFields {
            if let k = k as? String, let v = v as? String { out[k.lowercased()] = v }
        }
        return out
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        guard let state = state(dataTask), let http = response as? HTTPURLResponse else {
            completionHandler(.cancel)
            return
        }
        state.response = http
        state.collected = Data()
        if let sink = state.sink {
            do {
                state.streaming = try sink.begin(status: http.statusCode, headers: Self.headers(http))
            } catch {
                state.failure = error
                completionHandler(.cancel)
                return
            }
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let state = state(dataTask), state.failure == nil else { return }
        if state.streaming, let sink = state.sink {
            do { try sink.write(data) } catch {
                state.failure = error
                dataTask.cancel()
            }
        } else if state.collected.count + data.count <= HTTPTransport.memoryLimit {
            state.collected.append(data)
        } else {
            state.failure = RegistryError.protocolViolation(
                "response from \(dataTask.originalRequest?.url?.absoluteString ?? "?") exceeds \(HTTPTransport.memoryLimit) bytes")
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        // Blob GETs redirect to storage backends (S3, CDNs); never hand them our credentials.
        var request = request
        if request.url?.host != task.originalRequest?.url?.host || request.url?.scheme != task.originalRequest?.url?.scheme {
            request.setValue(nil, forHTTPHeaderField: "Authorization")
        }
        completionHandler(request)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
                    completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
        // Without this method FoundationNetworking never completes a task that got a 401 with
        // `WWW-Authenticate: Basic`. Declining cancels the task; didComplete then reports the
        // 401 as an ordinary response.
        state(task)?.declinedChallenge = true
        completionHandler(.rejectProtectionSpace, nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        guard let state = remove(task) else { return }
        let url = task.currentRequest?.url ?? task.originalRequest?.url ?? URL(fileURLWithPath: "/")
        if let failure = state.failure {
            state.finish(.failure(failure))
        } else if error != nil, state.declinedChallenge, let http = state.response {
            state.finish(.success(HTTPResponse(status: http.statusCode, headers: Self.headers(http),
                                               body: state.collected, url: url)))
        } else if let error {
            state.finish(.failure(Self.transportError(error, url: url)))
        } else if let http = state.response {
            state.finish(.success(HTTPResponse(status: http.statusCode, headers: Self.headers(http),
                                               body: state.collected, url: url)))
        } else {
            state.finish(.failure(RegistryError.transport("no response", url: url.absoluteString)))
        }
    }

    static func transportError(_ error: Error, url: URL) -> Error {
        if let urlError = error as? URLError {
            if urlError.code == .cancelled { return CancellationError() }
            return RegistryError.transport(describe(urlError), url: url.absoluteString)
        }
        return RegistryError.transport(error.localizedDescription, url: url.absoluteString)
    }

    private static func describe(_ e: URLError) -> String {
        switch e.code {
        case .networkConnectionLost: return "connection lost"
        case .cannotConnectToHost: return "connection refused"
        case .timedOut: return "timed out"
        case .cannotFindHost: return "unknown host"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
            return "TLS handshake failed (\(e.localizedDescription)); for a plain-HTTP registry pass --insecure-registry HOST"
        default:
            let text = e.localizedDescription
            if text.contains("SSL certificate problem") {
                // libcurl under FoundationNetworking reads only the system CA bundle.
                return text + " (add a private CA to the system trust store with update-ca-certificates; "
                    + "SSL_CERT_FILE is not read; for a plain-HTTP registry pass --insecure-registry HOST)"
            }
            return text
        }
    }
}
