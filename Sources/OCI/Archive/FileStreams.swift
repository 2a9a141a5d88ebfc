import Foundation
#if canImport(Glibc)
import Glibc
#endif
import System

/// Writes to a file descriptor through a 1 MiB buffer.
public final class FileSink: ByteSink {
    public let path: String
    private let fd: Int32
    private let ownsDescriptor: Bool
    private let buffer: UnsafeMutableRawBufferPointer
    private var used = 0
    private var closed = false
    /// fsync on finish, so a later rename publishes durable content.
    private let sync: Bool

    /// Creates (or truncates) `path`.
    public convenience init(path: String, mode: mode_t = 0o644, sync: Bool = false) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        if fd < 0 { throw ArchiveError.io(operation: "create", path: path, errno: errno) }
        self.init(descriptor: fd, path: path, ownsDescriptor: true, sync: sync)
    }

    /// Wraps an open descriptor; it is closed by `finish()` only if `ownsDescriptor`.
    public init(descriptor: Int32, path: String, ownsDescriptor: Bool, sync: Bool = false) {
        self.fd = descriptor
        self.path = path
        self.ownsDescriptor = ownsDescriptor
        self.sync = sync
        self.buffer = .allocate(byteCount: 1 << 20, alignment: 4096)
    }

    deinit {
        buffer.deallocate()
        if ownsDescriptor && !closed { close(fd) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        if bytes.count >= buffer.count {
            try flush()
            try writeFully(bytes)
            return
        }
        if used + bytes.count > buffer.count { try flush() }
        (buffer.baseAddress! + used).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        used += bytes.count
    }

    private func flush() throws {
        if used > 0 {
            try writeFully(UnsafeRawBufferPointer(rebasing: buffer[0..<used]))
            used = 0
        }
    }

    private func writeFully(_ bytes: UnsafeRawBufferPointer) throws {
        let e = FileIO.writeFully(fd, bytes)
        if e != 0 { throw ArchiveError.io(operation: "write", path: path, errno: e) }
    }

    public func finish() throws {
        guard !closed else { return }
        try flush()
        if sync && fsync(fd) != 0 { throw ArchiveError.io(operation: "fsync", path: path, errno: errno) }
        closed = true
        if ownsDescriptor && close(fd) != 0 {
            throw ArchiveError.io(operation: "close", path: path, errno: errno)
        }
    }
}

/// Reads from a file descriptor.
public final class FileSource: ByteSource {
    /// A command's input file: `-` is standard input (not closed here); a missing file is
    /// `StoreError.io` ENOENT naming it.
    public static func input(_ path: String) throws -> FileSource {
        if path == "-" { return FileSource(descriptor: 0, path: "<stdin>", ownsDescriptor: false) }
        guard FileSystem.exists(path) else { throw StoreError.io(path: path, operation: "open", errno: ENOENT) }
        return try FileSource(path: path)
    }

    public let path: String
    private let fd: Int32
    private let ownsDescriptor: Bool

    public init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw ArchiveError.io(operation: "open", path: path, errno: errno) }
        self.fd = fd
        self.path = path
        self.ownsDescriptor = true
    }

    public init(descriptor: Int32, path: String, ownsDescriptor: Bool) {
        self.fd = descriptor
        self.path = path
        self.ownsDescriptor = ownsDescriptor
    }

    deinit { if ownsDescriptor { close(fd) } }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress!, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw ArchiveError.io(operation: "read", path: path, errno: errno)
            }
            return n
        }
    }
}
