import CLinux
import Foundation
import OCI
import System

/// The parts of `struct stat` the build needs, taken without following a final symlink.
public struct FileStat: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case regular, directory, symlink, fifo, socket, charDevice, blockDevice
    }

    public let kind: Kind
    /// Permission and special bits (`0o7777`), not the type.
    public let permissions: UInt32
    public let uid: UInt32
    public let gid: UInt32
    public let size: Int64
    public let device: UInt64
    public let inode: UInt64
    public let links: UInt64
    public let rdev: UInt64
    public let mtime: timespec
    public let atime: timespec
    public let ctime: timespec

    init(_ st: stat) {
        switch st.st_mode & S_IFMT {
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        case S_IFIFO: kind = .fifo
        case S_IFSOCK: kind = .socket
        case S_IFCHR: kind = .charDevice
        case S_IFBLK: kind = .blockDevice
        default: kind = .regular
        }
        permissions = UInt32(st.st_mode) & 0o7777
        uid = st.st_uid
        gid = st.st_gid
        size = Int64(st.st_size)
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        links = UInt64(st.st_nlink)
        rdev = UInt64(st.st_rdev)
        mtime = st.st_mtim
        atime = st.st_atim
        ctime = st.st_ctim
    }

    /// `lstat(2)`; nil when the path does not exist (or a parent is not a directory).
    public static func lstat(_ path: String) throws(FileSystemError) -> FileStat? {
        var st = stat()
        if Glibc.lstat(path, &st) == 0 { return FileStat(st) }
        let e = errno
        if e == ENOENT || e == ENOTDIR { return nil }
        throw FileSystemError(operation: "lstat", path: path, errno: e)
    }

    /// `fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW)`.
    static func at(_ dirfd: Int32, _ name: String, path: String) throws(FileSystemError) -> FileStat {
        var st = stat()
        guard fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw FileSystemError(operation: "stat", path: path, errno: errno)
        }
        return FileStat(st)
    }

    public static func == (a: FileStat, b: FileStat) -> Bool {
        a.kind == b.kind && a.permissions == b.permissions && a.uid == b.uid && a.gid == b.gid
            && a.size == b.size && a.device == b.device && a.inode == b.inode
            && a.mtime.tv_sec == b.mtime.tv_sec && a.mtime.tv_nsec == b.mtime.tv_nsec
            && a.ctime.tv_sec == b.ctime.tv_sec && a.ctime.tv_nsec == b.ctime.tv_nsec
    }

    public func hash(into h: inout Hasher) {
        h.combine(device); h.combine(inode); h.combine(size)
        h.combine(mtime.tv_sec); h.combine(mtime.tv_nsec)
    }
}

/// A failed system call on a path, in the Go style BuildKit's messages use (`stat X: no such
/// file or directory`): `SystemError`'s text (with its full-disk explanation), lower-cased first
/// letter. Kept apart from `SystemError` only for that rendering, which tests and users match.
public struct FileSystemError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The failed call itself: this type only renders it.
    public let cause: SystemError
    public var operation: String { cause.operation }
    public var path: String { cause.path }
    public var errno: Int32 { cause.errno }

    public init(operation: String, path: String, errno: Int32) {
        cause = SystemError(operation: operation, path: path, errno: errno)
    }

    /// `System`'s error in this rendering.
    public init(_ error: SystemError) { cause = error }

    public var description: String {
        let reason = SystemError.describe(errno: errno, path: path)
        return "\(operation) \(path): \(reason.prefix(1).lowercased() + reason.dropFirst())"
    }
}
