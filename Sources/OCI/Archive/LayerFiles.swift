import CLinux
import Foundation
import System
#if canImport(Glibc)
import Glibc
#endif

/// The layer writer's and applier's view of a tree on disk: `System`'s calls (relative to
/// directory descriptors, never through a final symlink) with their failures as `ArchiveError`,
/// plus the two rules that belong to layers — entry names must be UTF-8 text, and a 0:0
/// character device is an overlay whiteout.
enum LayerFiles {
    /// The names in an open directory (without "." and ".."), in byte order. Tar entry names
    /// must be text: a name that is not UTF-8 is refused, naming it. `fd` stays open.
    static func entries(ofDirectory fd: Int32, path: String) throws -> [String] {
        let names = try ArchiveError.wrapping { try FileSystem.entryNames(ofDirectory: fd, path: path) }
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

    /// `FileSystem.lstatAtIfExists` as an `ArchiveError`.
    static func lstatAtIfExists(_ dirfd: Int32, _ name: String, path: String) throws -> stat? {
        try ArchiveError.wrapping { try FileSystem.lstatAtIfExists(dirfd, name, path: path) }
    }

    /// `FileSystem.readLink(at:)` as an `ArchiveError`.
    static func readLink(_ dirfd: Int32, _ name: String, path: String) throws -> String {
        try ArchiveError.wrapping { try FileSystem.readLink(at: dirfd, name, path: path) }
    }

    /// `FileSystem.xattrs` by name, as an `ArchiveError`.
    static func xattrs(_ path: String) throws -> [String: [UInt8]] {
        let list = try ArchiveError.wrapping { try FileSystem.xattrs(path) }
        return Dictionary(list.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    /// Whether `st` is an overlay whiteout: a character device 0:0.
    static func isWhiteoutDevice(_ st: stat) -> Bool {
        FileSystem.fileType(st) == S_IFCHR && clinux_major(st.st_rdev) == 0 && clinux_minor(st.st_rdev) == 0
    }
}
