#if canImport(Glibc)
import Glibc
#endif

/// Small POSIX file helpers for snapshots and bundles (no FileManager: it is slow and follows
/// symlinks in places we must not).
enum FileTree {
    /// Removes `path` and everything below it without following symlinks. A directory that is a
    /// mount point (another device) is detached first rather than emptied.
    static func removeAll(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd >= 0 { removeContents(fd: fd, device: st.st_dev, path: path) }
            if rmdir(path) != 0 && errno == EBUSY {
                umount2(path, Int32(MNT_DETACH))
                rmdir(path)
            }
        } else {
            unlink(path)
        }
    }

    /// Empties the directory open at `fd` (which it takes over and closes). Iterative, holding
    /// one descriptor at a time and climbing back with "..", which a real directory cannot
    /// redirect: a RUN step can leave a tree thousands of levels deep, and recursion would run
    /// out of descriptors or overflow a small thread stack before it was gone.
    private static func removeContents(fd start: Int32, device: dev_t, path: String) {
        struct Frame { let name: String; var pending: [String] }
        var fd = start
        var stack = [Frame(name: "", pending: entries(fd: fd))]
        func here() -> String { path + stack.dropFirst().map { "/" + $0.name }.joined() }
        while !stack.isEmpty {
            if let name = stack[stack.count - 1].pending.popLast() {
                var st = stat()
                guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                guard (st.st_mode & S_IFMT) == S_IFDIR else {
                    unlinkat(fd, name, 0)
                    continue
                }
                if st.st_dev != device {
                    // A mount point inside the tree: detach it rather than empty what it shows.
                    umount2(here() + "/" + name, Int32(MNT_DETACH))
                    if fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 { continue }
                }
                let sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard sub >= 0 else {
                    unlinkat(fd, name, AT_REMOVEDIR)
                    continue
                }
                close(fd)
                fd = sub
                stack.append(Frame(name: name, pending: entries(fd: fd)))
                continue
            }
            let done = stack.removeLast()
            if stack.isEmpty { break }
            let up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            close(fd)
            guard up >= 0 else { return }
            fd = up
            unlinkat(fd, done.name, AT_REMOVEDIR)
        }
        close(fd)
    }

    /// Names in the directory open at `fd` (without "." and ".."). Does not close `fd`.
    static func entries(fd: Int32) -> [String] {
        let dup = dup(fd)
        guard dup >= 0, let dir = fdopendir(dup) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name) ?? 19
        while let ent = readdir(dir) {
            let name = String(cString: UnsafeRawPointer(ent).advanced(by: nameOffset).assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Names in directory `path`, or nil if it cannot be opened.
    static func entries(_ path: String) -> [String]? {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return entries(fd: fd)
    }

    /// Creates a directory; an existing one is fine.
    static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws {
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw RuntimeError.system(operation: "mkdir", path: path, errno: errno)
        }
    }

    /// Writes `contents` to `path` (created or truncated) with `mode`.
    static func write(_ contents: String, to path: String, mode: mode_t = 0o644) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw RuntimeError.system(operation: "create", path: path, errno: errno) }
        defer { close(fd) }
        let e = Array(contents.utf8).withUnsafeBytes { POSIX.writeAll(fd, $0) }
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
        try makeDirectories(base, mode: 0o700)
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
        try makeDirectories(base, mode: 0o700)
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

    /// `mkdir -p` for host paths we own.
    static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, mode) != 0 && errno != EEXIST {
                throw RuntimeError.system(operation: "mkdir", path: current, errno: errno)
            }
        }
    }
}
