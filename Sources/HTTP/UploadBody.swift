import Foundation
import OCI
#if canImport(Glibc)
import Glibc
#endif
import System

/// The bytes of a request body, handed to libcurl's read callback chunk by chunk. A file is read
/// from its descriptor (never loaded whole); both kinds can rewind when libcurl has to resend.
final class UploadBody {
    let size: Int64
    private let data: Data?
    private let path: String
    private var fd: Int32 = -1
    private var offset: Int64 = 0
    /// What the file must hash to, and the hash of its bytes read in order so far (up to
    /// `hashed`); a rewind to 0 starts it again, any other seek gives up checking.
    private let expected: Digest?
    private var hasher: SHA256Hasher? = nil
    private var hashed: Int64 = 0

    init(_ body: RequestBody) throws {
        switch body {
        case .none:
            expected = nil
            data = Data()
            path = ""
            size = 0
        case .data(let bytes):
            expected = nil
            data = bytes
            path = ""
            size = Int64(bytes.count)
        case .file(let url, let digest):
            expected = digest
            if digest != nil { hasher = SHA256Hasher() }
            data = nil
            path = url.path
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw HTTPError.system(.last("open", path: path)) }
            var st = stat()
            guard fstat(fd, &st) == 0 else {
                let failure = SystemError.last("stat", path: path)
                Glibc.close(fd)
                throw HTTPError.system(failure)
            }
            size = Int64(st.st_size)
        }
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Up to `capacity` bytes from the current offset; 0 at the end.
    func read(into buffer: UnsafeMutableRawPointer, capacity: Int) throws -> Int {
        if let data {
            let n = Int(min(Int64(capacity), size - offset))
            guard n > 0 else { return 0 }
            data.withUnsafeBytes { raw in
                if let base = raw.baseAddress { buffer.copyMemory(from: base + Int(offset), byteCount: n) }
            }
            offset += Int64(n)
            return n
        }
        while true {
            let n = pread(fd, buffer, capacity, off_t(offset))
            if n < 0 {
                if errno == EINTR { continue }
                throw HTTPError.system(.last("read", path: path))
            }
            if hasher != nil && offset == hashed {
                hasher?.update(UnsafeRawBufferPointer(start: buffer, count: n))
                hashed += Int64(n)
            }
            offset += Int64(n)
            if let expected, hashed == size, n == 0 || offset == size, let h = hasher.take() {
                let actual = h.finalize()
                if actual != expected {
                    throw StoreError.corruptBlob(expected, what: "blob \(expected)", cause: "its content hashes to \(actual)")
                }
            }
            return n
        }
    }

    func seek(to newOffset: Int64) -> Bool {
        guard newOffset >= 0, newOffset <= size else { return false }
        offset = newOffset
        if expected != nil && newOffset == 0 { hasher = SHA256Hasher(); hashed = 0 }
        return true
    }
}
