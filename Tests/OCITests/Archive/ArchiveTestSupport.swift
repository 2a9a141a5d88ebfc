import Foundation
@testable import OCI
#if canImport(Glibc)
import Glibc
#endif

/// A scratch directory under /tmp removed when the value is dropped.
final class ScratchDir {
    let path: String
    init(_ label: String = "archive") {
        var template = Array("/tmp/slipway-\(label)-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = p.map { String(cString: $0) } ?? "/tmp/slipway-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        if p == nil { mkdir(path, 0o755) }
    }
    deinit { _ = try? shell("umount -l '\(path)'/* 2>/dev/null; rm -rf '\(path)'") }
    func sub(_ name: String) -> String {
        let p = path + "/" + name
        mkdir(p, 0o755)
        return p
    }
}

/// Runs a shell command, returning stdout; throws with stderr on failure.
@discardableResult
func shell(_ command: String) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    if p.terminationStatus != 0 {
        throw ShellError(command: command, status: p.terminationStatus, stderr: String(decoding: e, as: UTF8.self))
    }
    return String(decoding: o, as: UTF8.self)
}

struct ShellError: Error, CustomStringConvertible {
    let command: String
    let status: Int32
    let stderr: String
    var description: String { "`\(command)` exited \(status): \(stderr)" }
}

func writeFile(_ path: String, _ content: String, mode: mode_t = 0o644) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(content.utf8))
    chmod(path, mode)
}

func readFile(_ path: String) -> String? {
    FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
}

/// Builds an in-memory tar with the given entries (data for regular files).
func makeTar(_ entries: [(TarEntry, [UInt8])], terminate: Bool = true) throws -> [UInt8] {
    let sink = MemorySink()
    let w = TarWriter(sink: sink)
    for (e, data) in entries {
        var e = e
        if e.kind == .regular { e.size = Int64(data.count) }
        try w.add(e)
        if !data.isEmpty { try data.withUnsafeBytes { try w.writeData($0) } }
    }
    try w.finish()
    return sink.bytes
}

/// All entries of a tar (any compression), in order.
func listTar(_ bytes: [UInt8]) throws -> [TarEntry] {
    let r = TarReader(source: try AutoDecompressor(from: MemorySource(bytes)))
    var out: [TarEntry] = []
    while let e = try r.next() { out.append(e) }
    return out
}
