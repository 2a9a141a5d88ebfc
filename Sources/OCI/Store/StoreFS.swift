#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Foundation
import System

/// The store's own writes and reads on top of `System`'s helpers: atomic small files through
/// the store's `tmp/`, whole-blob reads with a size cap, 1 MiB streaming; all throw
/// `StoreError` (the generic helpers throw `SystemError`, with the same wording).
enum StoreFS {
    static func check(_ rc: Int32, _ op: String, _ path: String) throws {
        if rc < 0 { throw StoreError.io(path: path, operation: op, errno: errno) }
    }

    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        let e = FileIO.writeFully(fd, buffer)
        if e != 0 { throw StoreError.io(path: path, operation: "write", errno: e) }
    }

    /// Streams the file at `path` through `body` in 1 MiB chunks.
    static func forEachChunk(ofFile path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        try check(fd, "open", path)
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        let e = try FileIO.readChunks(fd, buffer: buffer, body)
        if e != 0 { throw StoreError.io(path: path, operation: "read", errno: e) }
    }

    /// Writes a small file atomically: temp file in `tmpDir`, fsync, rename, fsync of the directory.
    static func writeAtomically(_ bytes: [UInt8], to path: String, tmpDir: String, mode: mode_t = 0o644) throws {
        let tmp = TempName.path(in: tmpDir)
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
        if let slash = path.lastIndex(of: "/") { try FileSystem.fsyncDirectory(String(path[..<slash])) }
    }

    /// The whole file at `path`, refusing one larger than `limit` (a blob read into memory).
    static func readAll(_ path: String, limit: Int = 64 << 20) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        try check(fd, "open", path)
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        let e = try chunk.withUnsafeMutableBytes { buffer in
            try FileIO.readChunks(fd, buffer: buffer) { piece in
                out.append(contentsOf: piece)
                if out.count > limit { throw StoreError.invalid("\(path) is larger than \(limit) bytes") }
            }
        }
        if e != 0 { throw StoreError.io(path: path, operation: "read", errno: e) }
        return out
    }
}
