import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file a command produces for the user — `save -o`, `cache export -o`, `build --output
/// dest=`, `--iidfile` — opened by the one rule every such output follows (buildx's):
///
/// - `-` is standard output, refused when that is a terminal (an archive on a terminal is noise
///   and can leave it in a strange state);
/// - an existing device, FIFO or socket, or a symlink, is opened and written *through*: it is
///   never replaced (`-o /dev/null` must not turn the device into a regular file, `-o link.tar`
///   writes where the link points);
/// - a regular file, or a path that does not exist yet, is written atomically: a temp file
///   beside it, fsync, rename, fsync of the directory. A failed command leaves the old file
///   (or nothing), never a half-written one.
///
/// Write into `sink`, then `commit()`; `discard()` (or dropping it uncommitted) removes the
/// temp file.
public final class OutputFile {
    public enum Kind: Sendable, Equatable {
        case standardOutput
        /// A device, FIFO, socket or symlink: written in place.
        case writeThrough
        /// A temp file renamed over `path` by `commit()`.
        case atomic(temp: String)
    }

    /// The path as the user gave it (`-` for standard output).
    public let path: String
    public let kind: Kind
    public let sink: FileSink
    private var done = false

    /// Opens `path` for writing by the rule above. `what` names the output in errors ("the
    /// archive", "the image ID file").
    public init(_ path: String, what: String, mode: mode_t = 0o644) throws {
        self.path = path
        if path == "-" {
            if isatty(1) == 1 {
                throw ArchiveError.output(path: "-", reason: "refusing to write \(what) to a terminal; redirect standard output (> FILE) or name a file")
            }
            kind = .standardOutput
            sink = FileSink(descriptor: 1, path: "<stdout>", ownsDescriptor: false)
            return
        }
        guard !path.isEmpty else { throw ArchiveError.output(path: path, reason: "empty path for \(what)") }
        var st = stat()
        if lstat(path, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG {
            let type = st.st_mode & S_IFMT
            if type == S_IFDIR || (type == S_IFLNK && Self.isDirectory(path)) {
                throw ArchiveError.output(path: path, reason: "is a directory; name a file for \(what)")
            }
            // A symlink may dangle: creating its target is writing through it.
            let flags = O_WRONLY | O_CLOEXEC | (type == S_IFLNK ? O_CREAT | O_TRUNC : 0)
            let fd = Glibc.open(path, flags, mode)
            if fd < 0 {
                let e = errno
                if e == ENXIO && Self.isSocket(path) {
                    throw ArchiveError.output(path: path, reason: "is a socket; \(what) can go to a file, a device, a FIFO or standard output")
                }
                throw ArchiveError.io(operation: "open", path: path, errno: e)
            }
            kind = .writeThrough
            sink = FileSink(descriptor: fd, path: path, ownsDescriptor: true)
            return
        } else if lstat(path, &st) != 0 && errno != ENOENT {
            throw ArchiveError.io(operation: "stat", path: path, errno: errno)
        }
        // A regular file keeps its permissions when replaced.
        let exists = lstat(path, &st) == 0
        let fileMode = exists ? st.st_mode & 0o7777 : mode
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temp = (dir == "/" ? "" : dir) + "/." + base + "." + String(getpid()) + "-"
            + String(UInt64.random(in: 0...UInt64.max), radix: 36) + ".slipway-tmp"
        let fd = Glibc.open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
        if fd < 0 { throw ArchiveError.io(operation: "create", path: temp, errno: errno) }
        if exists { _ = fchmod(fd, fileMode) }   // past the umask, as the file was
        kind = .atomic(temp: temp)
        sink = FileSink(descriptor: fd, path: path, ownsDescriptor: true, sync: true)
    }

    deinit { if !done { discard() } }

    /// Flushes, and for an atomic output renames the temp file over `path` and syncs the directory.
    public func commit() throws {
        guard !done else { return }
        do {
            try sink.finish()
            if case .atomic(let temp) = kind {
                if rename(temp, path) != 0 { throw ArchiveError.io(operation: "rename to '\(path)'", path: temp, errno: errno) }
                done = true
                let dir = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
                let dfd = Glibc.open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                if dfd >= 0 { _ = fsync(dfd); close(dfd) }
            }
            done = true
        } catch {
            discard()
            throw error
        }
    }

    /// Drops an uncommitted output: the temp file of an atomic one is removed (a device or
    /// standard output keeps what was written; nothing can take it back).
    public func discard() {
        guard !done else { return }
        done = true
        try? sink.finish()
        if case .atomic(let temp) = kind { unlink(temp) }
    }

    /// Opens `path`, lets `body` write into the sink, and commits; on an error the output is
    /// discarded and the error rethrown.
    public static func write<T>(_ path: String, what: String, mode: mode_t = 0o644, _ body: (FileSink) throws -> T) throws -> T {
        let out = try OutputFile(path, what: what, mode: mode)
        do {
            let result = try body(out.sink)
            try out.commit()
            return result
        } catch {
            out.discard()
            throw error
        }
    }

    /// Writes `bytes` to `path` by the rule above.
    public static func write(_ bytes: [UInt8], to path: String, what: String) throws {
        try write(path, what: what) { sink in try bytes.withUnsafeBytes { try sink.write($0) } }
    }

    private static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    private static func isSocket(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFSOCK
    }
}
