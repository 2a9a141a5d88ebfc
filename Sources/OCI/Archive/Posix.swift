import CLinux
import Foundation
import System
#if canImport(Glibc)
import Glibc
#endif

/// The layer writer's and applier's own POSIX calls (stat, readlink, xattrs, whiteout devices,
/// UTF-8 entry names), throwing `ArchiveError`; the generic file helpers are `System`'s.
/// Everything works relative to directory descriptors so that no path is re-resolved through
/// symlinks.
public enum Posix {
    /// The names in an open directory (without "." and ".."), in byte order (`FileSystem`'s
    /// listing). Tar entry names must be text: a name that is not UTF-8 is refused, naming it.
    /// Takes ownership of nothing: `fd` stays open.
    static func entries(ofDirectory fd: Int32, path: String) throws -> [String] {
        let names: [[UInt8]]
        do { names = try FileSystem.entryNames(ofDirectory: fd, path: path) } catch { throw ArchiveError(error) }
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
    /// Sets an extended attribute on a path without following a final symlink.
    static func setXattr(path: String, name: String, value: [UInt8]) throws {
        let rc = value.withUnsafeBytes { lsetxattr(path, name, $0.baseAddress, value.count, 0) }
        if rc != 0 { throw ArchiveError.io(operation: "setxattr \(name)", path: path, errno: errno) }
    }
}
