#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Foundation

/// Small POSIX helpers the store needs for atomic, durable writes; all throw `StoreError.io`.
enum StoreFS {
    static func check(_ rc: Int32, _ op: String, _ path: String) throws {
        if rc < 0 { throw StoreError.io(path: path, operation: op, errno: errno) }
    }

    static func mkdirs(_ path: String, mode: mode_t = 0o755) throws {
        if mkdir(path, mode) == 0 || errno == EEXIST { return }
        guard errno == ENOENT else { throw StoreError.io(path: path, operation: "mkdir", errno: errno) }
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try mkdirs(String(path[..<slash]), mode: mode)
        }
        if mkdir(path, mode) != 0 && errno != EEXIST { throw StoreError.io(path: path, operation: "mkdir", errno: errno) }
    }

    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        let e = Posix.writeFully(fd, buffer)
        if e != 0 { throw StoreError.io(path: path, operation: "write", errno: e) }
    }

    /// Streams the file at `path` through `body` in 1 MiB chunks.
    static func forEachChunk(ofFile path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        try check(fd, "open", path)
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        let e = try Posix.readChunks(fd, buffer: buffer, body)
        if e != 0 { throw StoreError.io(path: path, operation: "read", errno: e) }
    }

    static func fsyncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try check(fd, "open", path)
        defer { close(fd) }
        try check(fsync(fd), "fsync", path)
    }

    /// Writes a small file atomically: temp file in `tmpDir`, fsync, rename, fsync of the directory.
    static func writeAtomically(_ bytes: [UInt8], to path: String, tmpDir: String, mode: mode_t = 0o644) throws {
        let tmp = tempPath(in: tmpDir)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        try check(fd, "create", tmp)
        var fdOpen = true
        defer { if fdOpen { close(fd) } }
        do {
            try bytes.withUnsafeBytes { try writeAll(fd, $0, path: tmp) }
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
        if let slash = path.lastIndex(of: "/") { try fsyncDirectory(String(path[..<slash])) }
    }

    static func readAll(_ path: String, limit: Int = 64 << 20) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        try check(fd, "open", path)
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError.io(path: path, operation: "read", errno: errno)
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit { throw StoreError.invalid("\(path) is larger than \(limit) bytes") }
        }
        return out
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Names in a directory (without `.` and `..`); empty when it does not exist.
    static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let ent = readdir(dir) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Removes a file or a whole tree (no symlink following). Iterative, one descriptor at a
    /// time (the layer applier's removal), so neither depth nor PATH_MAX can stop it.
    static func removeTree(_ path: String) throws {
        guard let slash = path.lastIndex(of: "/") else { throw StoreError.invalid("cannot remove '\(path)': not an absolute path") }
        let parent = slash == path.startIndex ? "/" : String(path[..<slash])
        let name = String(path[path.index(after: slash)...])
        guard !name.isEmpty, name != ".", name != ".." else { throw StoreError.invalid("cannot remove '\(path)'") }
        let fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return }
            throw StoreError.io(path: parent, operation: "open", errno: errno)
        }
        defer { close(fd) }
        do {
            try Posix.removeAll(fd, name, path: path)
        } catch let ArchiveError.io(operation, failedPath, e) {
            throw StoreError.io(path: failedPath, operation: operation, errno: e)
        }
    }

    nonisolated(unsafe) private static var counter: UInt64 = 0
    private static let counterLock = StoreMutex()

    /// A fresh name in `dir` that carries our pid, so that leftovers of dead processes can be found.
    static func tempPath(in dir: String, suffix: String = ".tmp") -> String {
        let n = counterLock.withLock { () -> UInt64 in counter += 1; return counter }
        let rnd = UInt64.random(in: 0...UInt64.max)
        return "\(dir)/\(getpid())-\(n)-\(String(rnd, radix: 36))\(suffix)"
    }

    /// The pid a temp name was made by, if it has that form.
    static func ownerPID(ofTempName name: String) -> Int32? {
        guard let dash = name.firstIndex(of: "-") else { return nil }
        return Int32(name[..<dash])
    }

    static func processIsAlive(_ pid: Int32) -> Bool { OwnerProcess.isRunning(pid) }
}

/// Whether the process that owns a pid-named lease, temp file or scratch directory still runs:
/// the one rule the store's GC and the build's stale-work cleanup (`StaleWork`) share.
public enum OwnerProcess {
    /// True while `pid` exists and is not a zombie (killed, not yet reaped by its parent: its
    /// leases, mounts and containers are as orphaned as those of a reaped process).
    public static func isRunning(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(after: close)...].drop { $0 == " " }.first
        return state != "Z" && state != "X"
    }
}

/// A pthread mutex for the few process-wide counters.
final class StoreMutex: @unchecked Sendable {
    private var m = pthread_mutex_t()
    init() { pthread_mutex_init(&m, nil) }
    deinit { pthread_mutex_destroy(&m) }
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&m)
        defer { pthread_mutex_unlock(&m) }
        return try body()
    }
}
