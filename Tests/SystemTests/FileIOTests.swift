#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import System

@Suite("FileIO")
struct FileIOTests {
    /// A pipe takes 64 KiB at a time: a 4 MiB write goes through many short writes, and every
    /// byte must arrive once and in order.
    @Test func writeFullyWritesEverythingThroughShortWritesOnAPipe() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let (readFD, writeFD) = (fds[0], fds[1])
        let payload = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        async let received: [UInt8] = runOffPool {
            var out: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            let e = buffer.withUnsafeMutableBytes { raw in
                FileIO.readChunks(readFD, buffer: raw) { out.append(contentsOf: $0) }
            }
            close(readFD)
            return e == 0 ? out : []
        }
        let e = payload.withUnsafeBytes { FileIO.writeFully(writeFD, $0) }
        close(writeFD)
        #expect(e == 0)
        let got = try await received
        #expect(got.count == payload.count)
        #expect(got == payload)
    }

    /// A write to a pipe whose reader left returns EPIPE (SIGPIPE ignored here, as slipway
    /// catches it) instead of throwing or trapping, so the caller chooses its own error.
    @Test func writeFullyReturnsTheErrnoOfAFailedWrite() {
        signal(SIGPIPE, SIG_IGN)
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        close(fds[0])
        let e = Array("hello".utf8).withUnsafeBytes { FileIO.writeFully(fds[1], $0) }
        close(fds[1])
        #expect(e == EPIPE)
    }

    @Test func readChunksReturnsTheErrnoOfAFailedRead() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileSystem.removeTree(dir) }
        let fd = open(dir, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 16)
        var calls = 0
        let e = buffer.withUnsafeMutableBytes { FileIO.readChunks(fd, buffer: $0) { _ in calls += 1 } }
        #expect(e == EISDIR)
        #expect(calls == 0)
    }
}

/// A fresh private directory under /var/tmp (not a tmpfs, unlike /tmp on some hosts).
func makeTemporaryDirectory() throws -> String {
    try FileSystem.makeDirectories("/var/tmp/slipway-tests", mode: 0o700)
    var template = Array("/var/tmp/slipway-tests/system-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) != nil }
    guard made else { throw SystemError.last("mkdtemp", path: "/var/tmp/slipway-tests") }
    return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

/// Creates a regular file with `text`.
func writeFile(_ path: String, _ text: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw SystemError.last("create", path: path) }
    defer { close(fd) }
    let e = Array(text.utf8).withUnsafeBytes { FileIO.writeFully(fd, $0) }
    if e != 0 { throw SystemError(operation: "write", path: path, errno: e) }
}
