import CLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Thin POSIX helpers shared by the layer writer and applier. Everything works relative to
/// directory descriptors so that no path is re-resolved through symlinks.
public enum Posix {
    /// The text of a failed system call's errno, the one wording errors of the store, archives
    /// and outputs share. A full disk says which filesystem is full and how much is left, so
    /// the user knows what to free (or where to move the store with `--root`).
    public static func describe(errno e: Int32, path: String) -> String {
        let text = String(cString: strerror(e))
        guard e == ENOSPC || e == EDQUOT else { return text }
        var dir = path
        var fs = statvfs()
        while !dir.isEmpty {
            if statvfs(dir, &fs) == 0 {
                let free = Int64(fs.f_bavail) * Int64(fs.f_frsize)
                return text + " (the filesystem holding '\(dir)' is full: \(free) bytes free; free space there, or move the store with --root or $SLIPWAY_ROOT)"
            }
            guard let slash = dir.lastIndex(of: "/") else { break }
            dir = slash == dir.startIndex ? (dir == "/" ? "" : "/") : String(dir[..<slash])
        }
        return text + " (the disk is full)"
    }

    /// The names in an open directory (without "." and ".."), in byte order. Takes ownership
    /// of nothing: `fd` stays open.
    static func entries(ofDirectory fd: Int32, path: String) throws -> [String] {
        let dupfd = dup(fd)
        if dupfd < 0 { throw ArchiveError.io(operation: "dup", path: path, errno: errno) }
        guard let dir = fdopendir(dupfd) else {
            let e = errno
            close(dupfd)
            throw ArchiveError.io(operation: "opendir", path: path, errno: e)
        }
        defer { closedir(dir) }
        rewinddir(dir)
        var names: [[UInt8]] = []
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        while true {
            errno = 0
            guard let ent = readdir(dir) else {
                if errno != 0 { throw ArchiveError.io(operation: "readdir", path: path, errno: errno) }
                break
            }
            let cname = UnsafeRawPointer(ent).advanced(by: nameOffset).assumingMemoryBound(to: CChar.self)
            let len = strlen(cname)
            let bytes = Array(UnsafeRawBufferPointer(start: cname, count: len))
            if bytes == [0x2e] || bytes == [0x2e, 0x2e] { continue }
            names.append(bytes)
        }
        names.sort { $0.lexicographicallyPrecedes($1) }
        var out: [String] = []
        out.reserveCapacity(names.count)
        for n in names {
            guard let s = String(validating: n, as: UTF8.self) else {
                throw ArchiveError.unsupportedFile(path: path + "/" + String(decoding: n, as: UTF8.self),
                                                   reason: "file name is not valid UTF-8")
            }
            out.append(s)
        }
        return out
    }

    static func lstatAt(_ dirfd: Int32, _ name: String, path: String) throws -> stat {
        var st = stat()
        if fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
            throw ArchiveError.io(operation: "stat", path: path, errno: errno)
        }
        return st
    }

    /// Stat that returns nil for ENOENT.
    static func lstatAtIfExists(_ dirfd: Int32, _ name: String, path: String) throws -> stat? {
        var st = stat()
        if fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
            if errno == ENOENT { return nil }
            throw ArchiveError.io(operation: "stat", path: path, errno: errno)
        }
        return st
    }

    static func fileType(_ st: stat) -> mode_t { st.st_mode & S_IFMT }

    static func readLink(_ dirfd: Int32, _ name: String, path: String) throws -> String {
        var size = 256
        while true {
            var buf = [UInt8](repeating: 0, count: size)
            let n = buf.withUnsafeMutableBytes {
                readlinkat(dirfd, name, $0.baseAddress!.assumingMemoryBound(to: CChar.self), size)
            }
            if n < 0 { throw ArchiveError.io(operation: "readlink", path: path, errno: errno) }
            if n < size { return String(decoding: buf[0..<n], as: UTF8.self) }
            size *= 4
        }
    }

    /// Extended attributes of a path, without following a final symlink.
    static func xattrs(path: String) throws -> [String: [UInt8]] {
        var size = llistxattr(path, nil, 0)
        if size < 0 {
            if errno == ENOTSUP || errno == ENODATA { return [:] }
            throw ArchiveError.io(operation: "listxattr", path: path, errno: errno)
        }
        if size == 0 { return [:] }
        var list = [CChar](repeating: 0, count: size)
        size = llistxattr(path, &list, size)
        if size < 0 { throw ArchiveError.io(operation: "listxattr", path: path, errno: errno) }
        var out: [String: [UInt8]] = [:]
        var start = 0
        for i in 0..<size where list[i] == 0 {
            let name = list[start..<i].withUnsafeBufferPointer { String(decoding: UnsafeRawBufferPointer($0), as: UTF8.self) }
            start = i + 1
            if name.isEmpty { continue }
            var vsize = lgetxattr(path, name, nil, 0)
            if vsize < 0 {
                if errno == ENODATA { continue }
                throw ArchiveError.io(operation: "getxattr \(name)", path: path, errno: errno)
            }
            var value = [UInt8](repeating: 0, count: vsize)
            vsize = value.withUnsafeMutableBytes { lgetxattr(path, name, $0.baseAddress, vsize) }
            if vsize < 0 { throw ArchiveError.io(operation: "getxattr \(name)", path: path, errno: errno) }
            out[name] = Array(value[0..<vsize])
        }
        return out
    }

    static func isWhiteoutDevice(_ st: stat) -> Bool {
        fileType(st) == S_IFCHR && clinux_major(st.st_rdev) == 0 && clinux_minor(st.st_rdev) == 0
    }
}

extension Posix {
    /// `rm -rf` of one name in a directory, never following symlinks. Iterative and holding one
    /// descriptor at a time (it climbs back with "..", which a real directory cannot redirect),
    /// so neither a deep tree nor the descriptor limit can stop it.
    static func removeAll(_ dirfd: Int32, _ name: String, path: String) throws {
        if unlinkat(dirfd, name, 0) == 0 { return }
        let e = errno
        if e == ENOENT { return }
        guard e == EISDIR || e == EPERM else { throw ArchiveError.io(operation: "remove", path: path, errno: e) }
        var fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 { throw ArchiveError.io(operation: "open", path: path, errno: errno) }
        defer { Glibc.close(fd) }
        makeWritable(fd)
        struct Frame { let name: String; var pending: [String] }
        var stack = [Frame(name: name, pending: try entries(ofDirectory: fd, path: path))]
        func here() -> String { path + stack.dropFirst().map { "/" + $0.name }.joined() }
        while !stack.isEmpty {
            if let child = stack[stack.count - 1].pending.popLast() {
                if unlinkat(fd, child, 0) == 0 || errno == ENOENT { continue }
                let e = errno
                guard e == EISDIR || e == EPERM else { throw ArchiveError.io(operation: "remove", path: here() + "/" + child, errno: e) }
                let sub = openat(fd, child, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if sub < 0 { throw ArchiveError.io(operation: "open", path: here() + "/" + child, errno: errno) }
                Glibc.close(fd)
                fd = sub
                makeWritable(fd)
                stack.append(Frame(name: child, pending: []))
                stack[stack.count - 1].pending = try entries(ofDirectory: fd, path: here())
                continue
            }
            let done = stack.removeLast()
            if stack.isEmpty { break }
            let up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if up < 0 { throw ArchiveError.io(operation: "open", path: here(), errno: errno) }
            Glibc.close(fd)
            fd = up
            if unlinkat(fd, done.name, AT_REMOVEDIR) != 0 && errno != ENOENT {
                throw ArchiveError.io(operation: "remove directory", path: here() + "/" + done.name, errno: errno)
            }
        }
        if unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT {
            throw ArchiveError.io(operation: "remove directory", path: path, errno: errno)
        }
    }

    /// A read-only directory (0555 from a layer) cannot be emptied without root; give the
    /// owner write permission first. Harmless for root, which ignores the bit.
    private static func makeWritable(_ fd: Int32) {
        var st = stat()
        if fstat(fd, &st) == 0 && st.st_mode & S_IWUSR == 0 { _ = fchmod(fd, (st.st_mode & 0o7777) | S_IRWXU) }
    }

    /// Writes all of `bytes` to `fd`, retrying short writes and EINTR. Returns 0, or the errno
    /// of the failed write so that each caller can throw its own error type.
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

    /// Reads `fd` to its end through `buffer`, handing each chunk to `body`. Returns 0, or the
    /// errno of the failed read.
    static func readChunks(_ fd: Int32, buffer: UnsafeMutableRawBufferPointer,
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

    /// Sets an extended attribute on a path without following a final symlink.
    static func setXattr(path: String, name: String, value: [UInt8]) throws {
        let rc = value.withUnsafeBytes { lsetxattr(path, name, $0.baseAddress, value.count, 0) }
        if rc != 0 { throw ArchiveError.io(operation: "setxattr \(name)", path: path, errno: errno) }
    }
}
