import CCurl
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// One request on one easy handle. libcurl calls back into it from inside `curl_easy_perform`,
/// on the thread running the transfer; that thread is the only one touching the mutable state
/// below, except `cancelled`, which is atomic.
final class CurlTransfer: @unchecked Sendable {
    let request: HTTPRequest
    private let sink: ResponseSink?
    let settings: HTTPTransport.Settings
    private let cancelled = Atomic<Bool>(false)
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))

    private var status = 0
    private var headers: [String: String] = [:]
    /// nil until the first body byte (or the end): whether the sink takes the body.
    private var streaming: Bool?
    private var collected = Data()
    /// An error from a sink or the upload body, reported instead of libcurl's "write error".
    private var failure: Error?
    var upload: UploadBody?
    /// Bytes moved (both directions) at the last progress callback, and when that count last changed.
    private var moved: Int64 = 0
    private var lastMove = ContinuousClock.now

    init(request: HTTPRequest, sink: ResponseSink?, settings: HTTPTransport.Settings) {
        self.request = request
        self.sink = sink
        self.settings = settings
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit { errorBuffer.deallocate() }

    /// Makes the transfer stop at libcurl's next progress callback (within a second).
    func cancel() { cancelled.store(true, ordering: .relaxed) }

    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    /// Runs the request to completion on the calling thread (it blocks: never call it from the
    /// Swift cooperative pool). HTTP statuses are returned, transport failures thrown.
    func perform(on handle: CurlHandle) throws -> HTTPResponse {
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer {
            ccurl_slist_free_all(headerList)
            upload?.close()
        }
        headerList = try configure(handle.raw)
        if isCancelled { throw CancellationError() }
        lastMove = .now
        let code = ccurl_easy_perform(handle.raw)
        if code == CURLE_OK {
            // A body-less response (HEAD, 201, an empty blob) still shows the sink its status.
            if streaming == nil { streaming = try sink?.begin(status: status, headers: headers) ?? false }
            var finalStatus = 0
            if ccurl_getinfo_long(handle.raw, CURLINFO_RESPONSE_CODE, &finalStatus) == CURLE_OK, finalStatus > 0 {
                status = finalStatus
            }
            return HTTPResponse(status: status, headers: headers, body: collected, url: effectiveURL(handle.raw))
        }
        if let failure { throw failure }
        if isCancelled || code == CURLE_ABORTED_BY_CALLBACK { throw CancellationError() }
        var osErrno = 0
        _ = ccurl_getinfo_long(handle.raw, CURLINFO_OS_ERRNO, &osErrno)
        throw CurlErrors.error(code: code, detail: String(cString: errorBuffer), osErrno: Int32(osErrno),
                               url: effectiveURL(handle.raw).absoluteString, settings: settings)
    }

    private func effectiveURL(_ handle: UnsafeMutableRawPointer) -> URL {
        var raw: UnsafePointer<CChar>?
        if ccurl_getinfo_string(handle, CURLINFO_EFFECTIVE_URL, &raw) == CURLE_OK, let raw,
           let url = URL(string: String(cString: raw)) {
            return url
        }
        return request.url
    }

    // MARK: - Callbacks (on the transfer thread)

    /// A header line, CRLF included. A status line starts a new block: after a redirect (or a
    /// 1xx) only the last response's headers remain.
    func receiveHeader(_ line: UnsafeRawBufferPointer) {
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("HTTP/") {
            let fields = text.split(separator: " ", maxSplits: 2)
            status = fields.count > 1 ? Int(fields[1]) ?? 0 : 0
            headers = [:]
        } else if let colon = text.firstIndex(of: ":") {
            let name = text[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if headers[name] == nil { headers[name] = value }
        }
    }

    /// A body chunk of the final response (libcurl drops the bodies of redirects it follows).
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        do {
            if streaming == nil { streaming = try sink?.begin(status: status, headers: headers) ?? false }
            if streaming == true, let sink {
                try sink.write(bytes)
            } else {
                guard collected.count + bytes.count <= HTTPTransport.memoryLimit else {
                    throw HTTPError.protocolViolation(
                        "response from \(request.url.absoluteString) exceeds \(HTTPTransport.memoryLimit) bytes")
                }
                collected.append(contentsOf: bytes)
            }
            return true
        } catch {
            failure = error
            return false
        }
    }

    /// Called by libcurl at least once a second. Non-zero aborts: on cancellation, or when no
    /// byte moved for `stallTimeout` (libcurl's own low-speed check averages over a window of
    /// several seconds, so after a burst it would notice a silent peer only ~5 s late).
    func progress(downloaded: Int64, uploaded: Int64) -> Int32 {
        if isCancelled { return 1 }
        let now = ContinuousClock.now
        if downloaded + uploaded != moved {
            moved = downloaded + uploaded
            lastMove = now
        } else if now - lastMove > .milliseconds(Int64(settings.stallTimeout * 1000)) {
            failure = CurlErrors.stalled(url: request.url.absoluteString, settings: settings)
            return 1
        }
        return 0
    }

    func readBody(into buffer: UnsafeMutableRawPointer, capacity: Int) -> Int {
        guard let upload else { return 0 }
        do { return try upload.read(into: buffer, capacity: capacity) } catch {
            failure = error
            return Int(CURL_READFUNC_ABORT)
        }
    }

    func seekBody(to offset: Int64) -> Int32 {
        guard let upload, upload.seek(to: offset) else { return CURL_SEEKFUNC_CANTSEEK }
        return CURL_SEEKFUNC_OK
    }
}
