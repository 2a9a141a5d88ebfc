#if canImport(Glibc)
import Glibc
#endif

/// Reading and writing whole buffers on descriptors. Both loops return an errno instead of
/// throwing, so that each caller can report a failure in its own terms (a progress writer
/// remembers the first EPIPE, the store throws with the temp file's path).
public enum FileIO {
    /// Writes all of `bytes` to `fd`, retrying short writes and EINTR. Returns 0, or the errno
    /// of the failed write.
    public static func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        guard let base = bytes.baseAddress else { return 0 }
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, base + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += n
        }
        return 0
    }

    /// Reads `fd` to its end through `buffer`, handing each chunk to `body` (retrying EINTR).
    /// Returns 0 at the end of the file, or the errno of the failed read.
    public static func readChunks(_ fd: Int32, buffer: UnsafeMutableRawBufferPointer,
                                  _ body: (UnsafeRawBufferPointer) throws -> Void) rethrows -> Int32 {
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            if n == 0 { return 0 }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }
}
