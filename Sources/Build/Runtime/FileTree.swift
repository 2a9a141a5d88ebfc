#if canImport(Glibc)
import Glibc
#endif
import System

/// The build runtime's own file helpers for snapshots and bundles: small text files, temp and
/// cleanup-registered scratch directories (no FileManager: it is slow and follows symlinks in
/// places we must not). Removal, listing and `mkdir -p` are `System.FileSystem`'s.
enum FileTree {
    /// Writes `contents` to `path` (created or truncated) with `mode`.
    static func write(_ contents: String, to path: String, mode: mode_t = 0o644) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw RuntimeError.system(operation: "create", path: path, errno: errno) }
        defer { close(fd) }
        let e = Array(contents.utf8).withUnsafeBytes { FileIO.writeFully(fd, $0) }
        if e != 0 { throw RuntimeError.system(operation: "write", path: path, errno: e) }
        fchmod(fd, mode)
    }

    /// Reads a regular file of at most `limit` bytes without following a symlink at `path`;
    /// nil when it is missing, not a regular file (a FIFO or device is never opened for
    /// reading: O_NONBLOCK, then fstat) or larger.
    static func readRegularFile(_ path: String, limit: Int) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size <= limit else { return nil }
        var buffer = [UInt8](repeating: 0, count: limit + 1)
        var count = 0
        while count <= limit {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, limit + 1 - count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            count += n
        }
        guard count <= limit else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }

    /// Reads a small text file, or nil.
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// A fresh directory `base/prefixXXXXXX`.
    static func makeTemporaryDirectory(in base: String, prefix: String) throws -> String {
        try FileSystem.makeDirectories(base, mode: 0o700)
        var template = Array((base + "/" + prefix + "XXXXXX").utf8CString)
        let ok = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) != nil }
        guard ok else { throw RuntimeError.system(operation: "mkdtemp", path: base, errno: errno) }
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// A fresh directory `base/prefix<pid>-<random>`, created and registered for cleanup in one
    /// step (so that a signal can never leave it behind unregistered). The pid lets a later
    /// process remove what a killed one (SIGKILL, power loss) left: `RunExecutor.removeStale`.
    static func makeRegisteredDirectory(in base: String, prefix: String) throws -> (CleanupRegistry.Token, String) {
        // Scratch bases hold mounted container roots: private when this creates them.
        try FileSystem.makeDirectories(base, mode: 0o700)
        for _ in 0..<16 {
            let path = base + "/" + prefix + "\(getpid())-" + randomHex(6)
            do {
                return try CleanupRegistry.shared.register(.directory(path)) { () -> String in
                    guard mkdir(path, 0o700) == 0 else { throw RuntimeError.system(operation: "mkdir", path: path, errno: errno) }
                    return path
                }
            } catch RuntimeError.system(_, _, EEXIST) {
                continue
            }
        }
        throw RuntimeError.system(operation: "mkdir", path: base + "/" + prefix + "*", errno: EEXIST)
    }

    static func randomHex(_ bytes: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in
            let b = UInt8.random(in: 0...255, using: &rng)
            return String(b >> 4, radix: 16) + String(b & 15, radix: 16)
        }.joined()
    }
}
