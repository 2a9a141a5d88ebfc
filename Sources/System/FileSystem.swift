#if canImport(Glibc)
import Glibc
#endif

/// Path-level file-system helpers every module shares: existence checks, directory creation and
/// listing, durable renames. All work on the path itself (`lstat`, `O_NOFOLLOW` where a
/// descriptor is opened), never through a final symlink; failures throw `SystemError`.
public enum FileSystem {
    /// Whether anything (a dangling symlink too) exists at `path`.
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    /// Whether `path` is a directory (not a symlink to one).
    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Creates one directory; an existing one is fine.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(SystemError) {
        if mkdir(path, mode) != 0 && errno != EEXIST { throw SystemError.last("mkdir", path: path) }
    }

    /// `mkdir -p`: creates `path` and any missing parents with `mode`. Tries the leaf first,
    /// so an existing directory costs one call whatever the permissions of its parents.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(SystemError) {
        if mkdir(path, mode) == 0 || errno == EEXIST { return }
        guard errno == ENOENT else { throw SystemError.last("mkdir", path: path) }
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try makeDirectories(String(path[..<slash]), mode: mode)
        }
        if mkdir(path, mode) != 0 && errno != EEXIST { throw SystemError.last("mkdir", path: path) }
    }

    /// fsyncs a directory, making the renames and creations in it durable.
    public static func fsyncDirectory(_ path: String) throws(SystemError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw SystemError.last("open", path: path) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw SystemError.last("fsync", path: path) }
    }

    /// The names in directory `path` (without `.` and `..`), sorted bytewise; a name that is not
    /// UTF-8 is decoded with replacement characters (use `entryNames` to keep its bytes).
    public static func entries(_ path: String) throws(SystemError) -> [String] {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw SystemError.last("open", path: path) }
        defer { close(fd) }
        return try entries(ofDirectory: fd, path: path)
    }

    /// `entries(_:)` of an open directory; `fd` stays open and owned by the caller.
    public static func entries(ofDirectory fd: Int32, path: String) throws(SystemError) -> [String] {
        try entryNames(ofDirectory: fd, path: path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The raw names in an open directory (without `.` and `..`), sorted bytewise (Go's and
    /// BuildKit's walk order). `fd` stays open and owned by the caller; `path` names it in errors.
    public static func entryNames(ofDirectory fd: Int32, path: String) throws(SystemError) -> [[UInt8]] {
        let dupfd = dup(fd)
        if dupfd < 0 { throw SystemError.last("dup", path: path) }
        guard let dir = fdopendir(dupfd) else {
            let e = errno
            close(dupfd)
            throw SystemError(operation: "opendir", path: path, errno: e)
        }
        defer { closedir(dir) }
        rewinddir(dir)
        var names: [[UInt8]] = []
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        while true {
            errno = 0
            guard let ent = readdir(dir) else {
                if errno != 0 { throw SystemError.last("readdir", path: path) }
                break
            }
            let cname = UnsafeRawPointer(ent).advanced(by: nameOffset).assumingMemoryBound(to: CChar.self)
            let bytes = Array(UnsafeRawBufferPointer(start: cname, count: strlen(cname)))
            if bytes == [0x2e] || bytes == [0x2e, 0x2e] { continue }
            names.append(bytes)
        }
        names.sort { $0.lexicographicallyPrecedes($1) }
        return names
    }
}
