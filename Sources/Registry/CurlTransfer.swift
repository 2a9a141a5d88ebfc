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
    private let settings: HTTPTransport.Settings
    private let cancelled = Atomic<Bool>(false)
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))

    private var status = 0
    private var headers: [String: String] = [:]
    /// nil until the first body byte (or the end): whether the sink takes the body.
    private var streaming: Bool?
    private var collected = Data()
    /// An error from a sink or the upload body, reported instead of libcurl's "write error".
    private var failure: Error?
    private var upload: UploadBody?
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
    fileprivate func receiveHeader(_ line: UnsafeRawBufferPointer) {
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
    fileprivate func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        do {
            if streaming == nil { streaming = try sink?.begin(status: status, headers: headers) ?? false }
            if streaming == true, let sink {
                try sink.write(bytes)
            } else {
                guard collected.count + bytes.count <= HTTPTransport.memoryLimit else {
                    throw RegistryError.protocolViolation(
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
    fileprivate func progress(downloaded: Int64, uploaded: Int64) -> Int32 {
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

    fileprivate func readBody(into buffer: UnsafeMutableRawPointer, capacity: Int) -> Int {
        guard let upload else { return 0 }
        do { return try upload.read(into: buffer, capacity: capacity) } catch {
            failure = error
            return Int(CURL_READFUNC_ABORT)
        }
    }

    fileprivate func seekBody(to offset: Int64) -> Int32 {
        guard let upload, upload.seek(to: offset) else { return CURL_SEEKFUNC_CANTSEEK }
        return CURL_SEEKFUNC_OK
    }

    // MARK: - Options

    private func configure(_ h: UnsafeMutableRawPointer) throws -> UnsafeMutablePointer<curl_slist>? {
        let options = CurlOptions(handle: h, url: request.url.absoluteString)
        try options.set(CURLOPT_URL, request.url.absoluteString)
        // Timeouts must not use SIGALRM: transfers run on many threads.
        try options.set(CURLOPT_NOSIGNAL, 1)
        try options.set(CURLOPT_PROTOCOLS_STR, "http,https")
        try options.set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        // Blob GETs redirect to storage backends. libcurl sends a custom Authorization header
        // only to the original host (and port and scheme) unless CURLOPT_UNRESTRICTED_AUTH is
        // set, which it never is here: credentials do not follow a redirect to another host.
        try options.set(CURLOPT_FOLLOWLOCATION, 1)
        try options.set(CURLOPT_MAXREDIRS, 10)
        try options.set(CURLOPT_CONNECTTIMEOUT_MS, Int(settings.connectTimeout * 1000))
        // A connection that moves no byte for `stallTimeout` seconds fails (and is retried),
        // however long the whole transfer takes. `progress` checks this precisely; the
        // low-speed limit is libcurl's own backstop for the same rule.
        try options.set(CURLOPT_LOW_SPEED_LIMIT, 1)
        try options.set(CURLOPT_LOW_SPEED_TIME, max(1, Int(settings.stallTimeout.rounded(.up))))
        if let timeout = request.timeout { try options.set(CURLOPT_TIMEOUT_MS, max(1, Int(timeout * 1000))) }
        try options.set(CURLOPT_ERRORBUFFER, UnsafeRawPointer(errorBuffer))
        try options.set(CURLOPT_BUFFERSIZE, 256 << 10)
        if let caFile = settings.trust.caFile { try options.set(CURLOPT_CAINFO, caFile) }
        if let caDirectory = settings.trust.caDirectory { try options.set(CURLOPT_CAPATH, caDirectory) }

        let me = Unmanaged.passUnretained(self).toOpaque()
        try options.check(ccurl_setopt_data_callback(h, CURLOPT_HEADERFUNCTION) { buffer, size, count, userdata in
            guard let buffer, let userdata else { return 0 }
            Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
                .receiveHeader(UnsafeRawBufferPointer(start: buffer, count: size * count))
            return size * count
        }, CURLOPT_HEADERFUNCTION)
        try options.set(CURLOPT_HEADERDATA, UnsafeRawPointer(me))
        try options.check(ccurl_setopt_data_callback(h, CURLOPT_WRITEFUNCTION) { buffer, size, count, userdata in
            guard let buffer, let userdata else { return 0 }
            let ok = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
                .receiveBody(UnsafeRawBufferPointer(start: buffer, count: size * count))
            return ok ? size * count : 0
        }, CURLOPT_WRITEFUNCTION)
        try options.set(CURLOPT_WRITEDATA, UnsafeRawPointer(me))
        try options.check(ccurl_setopt_xferinfo_callback(h) { userdata, _, downloaded, _, uploaded in
            guard let userdata else { return 0 }
            return Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
                .progress(downloaded: Int64(downloaded), uploaded: Int64(uploaded))
        }, CURLOPT_XFERINFOFUNCTION)
        try options.set(CURLOPT_XFERINFODATA, UnsafeRawPointer(me))
        try options.set(CURLOPT_NOPROGRESS, 0)

        var list: UnsafeMutablePointer<curl_slist>?
        do {
            list = try configureMethod(options, h, me)
            for (name, value) in request.headers {
                // With a body libcurl sends its length itself (CURLOPT_INFILESIZE_LARGE).
                if upload != nil, name.caseInsensitiveCompare("Content-Length") == .orderedSame { continue }
                list = ccurl_slist_append(list, "\(name): \(value)")
            }
            // No `Expect: 100-continue` round trip before an upload body.
            list = ccurl_slist_append(list, "Expect:")
            try options.set(CURLOPT_HTTPHEADER, UnsafeRawPointer(list))
            return list
        } catch {
            ccurl_slist_free_all(list)
            throw error
        }
    }

    /// GET is libcurl's default; HEAD is NOBODY; a request with a body is an "upload" whose
    /// method is renamed (POST/PATCH) and whose bytes come from the read callback.
    private func configureMethod(_ options: CurlOptions, _ h: UnsafeMutableRawPointer,
                                 _ me: UnsafeMutableRawPointer) throws -> UnsafeMutablePointer<curl_slist>? {
        let method = request.method.uppercased()
        switch (method, request.body) {
        case ("GET", .none):
            return nil
        case ("HEAD", .none):
            try options.set(CURLOPT_NOBODY, 1)
            return nil
        case (_, .none):
            try options.set(CURLOPT_CUSTOMREQUEST, method)
            if request.header("Content-Length") == nil, ["POST", "PUT", "PATCH"].contains(method) {
                return ccurl_slist_append(nil, "Content-Length: 0")
            }
            return nil
        default:
            let body = try UploadBody(request.body)
            upload = body
            try options.set(CURLOPT_UPLOAD, 1)
            if method != "PUT" { try options.set(CURLOPT_CUSTOMREQUEST, method) }
            try options.setOffset(CURLOPT_INFILESIZE_LARGE, body.size)
            try options.set(CURLOPT_UPLOAD_BUFFERSIZE, 512 << 10)
            try options.check(ccurl_setopt_data_callback(h, CURLOPT_READFUNCTION) { buffer, size, count, userdata in
                guard let buffer, let userdata else { return Int(CURL_READFUNC_ABORT) }
                return Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
                    .readBody(into: buffer, capacity: size * count)
            }, CURLOPT_READFUNCTION)
            try options.set(CURLOPT_READDATA, UnsafeRawPointer(me))
            try options.check(ccurl_setopt_seek_callback(h) { userdata, offset, _ in
                guard let userdata else { return CURL_SEEKFUNC_FAIL }
                return Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue().seekBody(to: Int64(offset))
            }, CURLOPT_SEEKFUNCTION)
            try options.set(CURLOPT_SEEKDATA, UnsafeRawPointer(me))
            return nil
        }
    }
}

/// Typed `curl_easy_setopt` calls that turn a refused option into an error naming it.
private struct CurlOptions {
    let handle: UnsafeMutableRawPointer
    let url: String

    func check(_ code: CURLcode, _ option: CURLoption) throws {
        guard code == CURLE_OK else {
            throw RegistryError.transport("libcurl refused option \(option.rawValue): \(String(cString: ccurl_easy_strerror(code)))",
                                          url: url)
        }
    }

    func set(_ option: CURLoption, _ value: Int) throws { try check(ccurl_setopt_long(handle, option, value), option) }

    /// For the `_LARGE` options, whose argument is a curl_off_t.
    func setOffset(_ option: CURLoption, _ value: Int64) throws {
        try check(ccurl_setopt_off_t(handle, option, curl_off_t(value)), option)
    }

    /// libcurl copies string options.
    func set(_ option: CURLoption, _ value: String) throws {
        try value.withCString { try check(ccurl_setopt_ptr(handle, option, $0), option) }
    }

    func set(_ option: CURLoption, _ value: UnsafeRawPointer?) throws {
        try check(ccurl_setopt_ptr(handle, option, value), option)
    }
}
