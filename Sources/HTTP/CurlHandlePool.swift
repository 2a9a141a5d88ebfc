import CCurl
import Foundation
import Synchronization

/// A libcurl easy handle. Only one transfer uses it at a time (the pool hands it out), which is
/// what makes moving it between threads safe.
struct CurlHandle: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
}

/// Idle easy handles kept between requests. Each handle owns a connection cache, so handing a
/// finished handle to the next request reuses its keep-alive connection (and TLS session)
/// instead of connecting again; `curl_easy_reset` clears the options but keeps that cache.
final class CurlHandlePool: Sendable {
    private let idle = Mutex<[CurlHandle]>([])
    /// Idle handles kept; more concurrent transfers still work, their handles are freed after.
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    deinit {
        for handle in idle.withLock({ $0 }) { ccurl_easy_cleanup(handle.raw) }
    }

    /// An idle handle, or a new one (loading libcurl on the first call in the process).
    func take(url: String) throws -> CurlHandle {
        if let handle = idle.withLock({ $0.popLast() }) { return handle }
        // Not a transport error: retrying cannot install a library.
        if let message = ccurl_load() { throw HTTPError.io(String(cString: message)) }
        guard let raw = ccurl_easy_init() else {
            throw HTTPError.transport("curl_easy_init failed (out of memory?)", url: url)
        }
        return CurlHandle(raw: raw)
    }

    /// Returns a handle after its transfer; options are reset, connections kept.
    func put(_ handle: CurlHandle) {
        ccurl_easy_reset(handle.raw)
        let surplus: CurlHandle? = idle.withLock { handles in
            guard handles.count < capacity else { return handle }
            handles.append(handle)
            return nil
        }
        if let surplus { ccurl_easy_cleanup(surplus.raw) }
    }
}
