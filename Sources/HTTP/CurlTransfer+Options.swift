import CCurl
import Foundation

/// How a request becomes libcurl options: timeouts, trust, callbacks, method, body, headers.
extension CurlTransfer {
    func configure(_ h: UnsafeMutableRawPointer) throws -> UnsafeMutablePointer<curl_slist>? {
        let options = CurlOptions(handle: h, url: request.url.absoluteString)
        try options.set(CURLOPT_URL, request.url.absoluteString)
        // Timeouts must not use SIGALRM: transfers run on many threads.
        try options.set(CURLOPT_NOSIGNAL, 1)
        // Hardening only (a redirect to file:// or ftp:// fails); libcurl before 7.85 lacks
        // these options and is still usable.
        _ = try? options.set(CURLOPT_PROTOCOLS_STR, "http,https")
        _ = try? options.set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
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
                // A token from a server could carry CR/LF: never let it add header lines.
                guard !(name + value).unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) else {
                    throw HTTPError.protocolViolation("header \(name) for \(request.url.absoluteString) contains a line break")
                }
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
struct CurlOptions {
    let handle: UnsafeMutableRawPointer
    let url: String

    func check(_ code: CURLcode, _ option: CURLoption) throws {
        guard code == CURLE_OK else {
            throw HTTPError.transport("libcurl refused option \(option.rawValue): \(String(cString: ccurl_easy_strerror(code)))",
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
