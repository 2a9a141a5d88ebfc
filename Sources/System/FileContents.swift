#if canImport(Glibc)
import Glibc
#endif

/// Whole files: reading one (with a size cap), streaming one in chunks, writing one in place or
/// atomically. The one set of these loops; every module wraps the `SystemError` in its own.
extension FileIO {
    /// Throws `SystemError` for a failed call (`rc < 0`), reading `errno`.
    public static func check(_ rc: Int32, _ operation: String, _ path: String) throws(SystemError) {
        if rc < 0 { throw SystemError.last(operation, path: path) }
    }

    /// Writes all of `bytes` to `fd`, throwing the failed write's error.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(SystemError) {
        let e = writeFully(fd, bytes)
        if e != 0 { throw SystemError(operation: "write", path: path, errno: e) }
    }

    /// Streams the file at `path` through `body` in 1 MiB chunks. Errors of `body` pass through.
    public static func forEachChunk(ofFile path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        try check(fd, "open", path)
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        let e = try readChunks(fd, buffer: buffer, body)
        if e != 0 { throw SystemError(operation: "read", path: path, errno: e) }
    }

    /// The whole file at `path`; one larger than `limit` is refused (EFBIG) rather than read
    /// into memory.
    public static func readFile(_ path: String, limit: Int = 64 << 20) throws(SystemError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        try check(fd, "open", path)
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var tooLarge = false
        let e = chunk.withUnsafeMutableBytes { buffer in
            readChunks(fd, buffer: buffer) { piece in
                guard !tooLarge else { return }
                out.append(contentsOf: piece)
                if out.count > limit { tooLarge = true }
            }
        }
        if tooLarge { throw SystemError(operation: "read (the file is larger than \(limit) bytes)", path: path, errno: EFBIG) }
        if e != 0 { throw SystemError(operation: "read", path: path, errno: e) }
        return out
    }

    /// A regular file of at most `limit` bytes, never through a symlink at `path`; nil when it
    /// is missing, not a regular file (a FIFO or device is never read: O_NONBLOCK, then fstat)
    /// or larger.
    public static func readRegularFile(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size <= limit else { return nil }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(limit + 1, 64 << 10))
        let e = chunk.withUnsafeMutableBytes { buffer in
            readChunks(fd, buffer: buffer) { out.append(contentsOf: $0) }
        }
        guard e == 0, out.count <= limit else { return nil }
        return out
    }

    /// `readRegularFile` as text (UTF-8, invalid bytes replaced).
    public static func readRegularText(_ path: String, limit: Int) -> String? {
        readRegularFile(path, limit: limit).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A small text file (a /proc file, a pid file), or nil when it cannot be read.
    public static func readText(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        let e = chunk.withUnsafeMutableBytes { buffer in
            readChunks(fd, buffer: buffer) { data.append(contentsOf: $0) }
        }
        return e == 0 ? String(decoding: data, as: UTF8.self) : nil
    }

    /// Writes `bytes` to `path` in place (created or truncated, never through a symlink there)
    /// with `mode`, past the umask.
    public static func writeFile(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(SystemError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)
        try check(fd, "create", path)
        defer { close(fd) }
        let e = bytes.withUnsafeBytes { writeFully(fd, $0) }
        if e != 0 { throw SystemError(operation: "write", path: path, errno: e) }
        fchmod(fd, mode)
    }

    /// Writes a small file atomically: a temp file in `tmpDir` (on the same filesystem), fsync,
    /// rename over `path`, fsync of the directory. A failure leaves the old file (or nothing).
    public static func writeAtomically(_ bytes: [UInt8], to path: String, tmpDir: String, mode: mode_t = 0o644) throws(SystemError) {
        let tmp = TempName.path(in: tmpDir)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        try check(fd, "create", tmp)
        var fdOpen = true
        defer { if fdOpen { close(fd) } }
        do throws(SystemError) {
            let e = bytes.withUnsafeBytes { writeFully(fd, $0) }
            if e != 0 { throw SystemError(operation: "write", path: tmp, errno: e) }
            try check(fsync(fd), "fsync", tmp)
            fdOpen = false
            // A descriptor is closed exactly once: a second close after a failed rename could
            // close a descriptor another thread has just been given the same number.
            try check(close(fd), "close", tmp)
            try check(rename(tmp, path), "rename to \(path)", tmp)
        } catch {
            unlink(tmp)
            throw error
        }
        if let slash = path.lastIndex(of: "/") { try FileSystem.fsyncDirectory(String(path[..<slash])) }
    }
}

extension TempName {
    /// `bytes` random bytes as lower-case hex (the random part of registered scratch names).
    public static func randomHex(_ bytes: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in
            let b = UInt8.random(in: 0...255, using: &rng)
            return String(b >> 4, radix: 16) + String(b & 15, radix: 16)
        }.joined()
    }
}
