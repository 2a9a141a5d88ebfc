import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// What a path is, without following a final symlink: `lstat` relative to a directory
/// descriptor (so no path is re-resolved through symlinks), link targets, extended attributes.
/// The one place these calls are made; the layer writer and applier, the context walk and the
/// store wrap the `SystemError` in their own errors.
extension FileSystem {
    /// `fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW)`; `path` names it in errors.
    public static func lstatAt(_ dirfd: Int32, _ name: String, path: String) throws(SystemError) -> stat {
        var st = stat()
        if fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 { throw SystemError.last("stat", path: path) }
        return st
    }

    /// `lstatAt`, nil when nothing is there (ENOENT).
    public static func lstatAtIfExists(_ dirfd: Int32, _ name: String, path: String) throws(SystemError) -> stat? {
        var st = stat()
        if fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
            if errno == ENOENT { return nil }
            throw SystemError.last("stat", path: path)
        }
        return st
    }

    /// The file type bits of a `stat` (`S_IFREG`, `S_IFDIR`, …).
    public static func fileType(_ st: stat) -> mode_t { st.st_mode & S_IFMT }

    /// The target of the symlink `name` in directory `dirfd` (any length).
    public static func readLink(at dirfd: Int32, _ name: String, path: String) throws(SystemError) -> String {
        var size = 256
        while true {
            var buf = [UInt8](repeating: 0, count: size)
            let n = buf.withUnsafeMutableBytes {
                readlinkat(dirfd, name, $0.baseAddress!.assumingMemoryBound(to: CChar.self), size)
            }
            if n < 0 { throw SystemError.last("readlink", path: path) }
            if n < size { return String(decoding: buf[0..<n], as: UTF8.self) }
            size *= 4
        }
    }

    /// The target of the symlink at `path`.
    public static func readLink(_ path: String) throws(SystemError) -> String {
        try readLink(at: AT_FDCWD, path, path: path)
    }

    /// The extended attributes of `path` (not following a final symlink), sorted by name
    /// bytewise. A file system without xattrs has none; an attribute removed while being read
    /// is skipped.
    public static func xattrs(_ path: String) throws(SystemError) -> [(name: String, value: [UInt8])] {
        var size = llistxattr(path, nil, 0)
        if size < 0 {
            if errno == ENOTSUP || errno == ENODATA { return [] }
            throw SystemError.last("listxattr", path: path)
        }
        if size == 0 { return [] }
        var list = [CChar](repeating: 0, count: size)
        size = llistxattr(path, &list, size)
        if size < 0 { throw SystemError.last("listxattr", path: path) }
        var out: [(name: String, value: [UInt8])] = []
        var start = 0
        for i in 0..<size where list[i] == 0 {
            let name = list[start..<i].withUnsafeBufferPointer { String(decoding: UnsafeRawBufferPointer($0), as: UTF8.self) }
            start = i + 1
            if name.isEmpty { continue }
            var vsize = lgetxattr(path, name, nil, 0)
            if vsize < 0 {
                if errno == ENODATA { continue }
                throw SystemError.last("getxattr \(name)", path: path)
            }
            var value = [UInt8](repeating: 0, count: vsize)
            vsize = value.withUnsafeMutableBytes { lgetxattr(path, name, $0.baseAddress, vsize) }
            if vsize < 0 {
                if errno == ENODATA { continue }
                throw SystemError.last("getxattr \(name)", path: path)
            }
            out.append((name, Array(value[0..<vsize])))
        }
        return out.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
    }

    /// Sets an extended attribute on `path` without following a final symlink.
    public static func setXattr(_ path: String, name: String, value: [UInt8]) throws(SystemError) {
        let rc = value.withUnsafeBytes { lsetxattr(path, name, $0.baseAddress, value.count, 0) }
        if rc != 0 { throw SystemError.last("setxattr \(name)", path: path) }
    }

    /// Joins a relative `/`-path onto a base without doubling slashes.
    public static func join(_ base: String, _ rel: String) -> String {
        if rel.isEmpty { return base }
        if base.hasSuffix("/") { return base + rel }
        return base + "/" + rel
    }

    /// A fresh directory `base/prefixXXXXXX` (mkdtemp; `base` made private if missing).
    public static func makeTemporaryDirectory(in base: String, prefix: String) throws(SystemError) -> String {
        try makeDirectories(base, mode: 0o700)
        var template = Array((base + "/" + prefix + "XXXXXX").utf8CString)
        let ok = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) != nil }
        guard ok else { throw SystemError.last("mkdtemp", path: base) }
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
