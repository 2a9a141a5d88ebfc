import Foundation
@testable import OCI
#if canImport(Glibc)
import Glibc
import TestSupport
#endif
import System

/// A scratch directory under /tmp removed when the value is dropped.
final class ScratchDir {
    let path: String
    init(_ label: String = "archive") {
        var template = Array("/tmp/slipway-\(label)-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = p.map { String(cString: $0) } ?? "/tmp/slipway-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        if p == nil { mkdir(path, 0o755) }
    }
    /// In process (no `umount`/`rm` child to wait for): detach mounts left under the directory,
    /// then remove the tree (deep and read-only trees included).
    deinit {
        let mounts = ((try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? "")
            .split(separator: "\n").compactMap { line -> String? in
                let f = line.split(separator: " ")
                return f.count > 1 && f[1].hasPrefix(path + "/") ? String(f[1]) : nil
            }
        for m in mounts.reversed() { _ = umount2(m, Int32(MNT_DETACH)) }
        try? FileSystem.removeTree(path)
    }
    func sub(_ name: String) -> String {
        let p = path + "/" + name
        mkdir(p, 0o755)
        return p
    }
}

/// Runs a shell command, returning stdout; throws with stderr on failure. Waits off the
/// cooperative pool.
@discardableResult
func shell(_ command: String) async throws -> String {
    try await offPool { try shellBlocking(command) }
}

/// `shell` for work already off the cooperative pool: holds the calling thread until the command exits.
@discardableResult
func shellBlocking(_ command: String) throws -> String {
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

/// A comparable description of every file under `root`: type, mode, owner, size, content
/// digest, link target, device, xattrs, mtime, and which paths share an inode.
func snapshot(_ root: String, mtimes: Bool = true) throws -> [String: String] {
    var out: [String: String] = [:]
    var inodes: [UInt64: String] = [:]
    func walk(_ rel: String) throws {
        let dir = rel.isEmpty ? root : root + "/" + rel
        let fd = open(dir, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        for name in try LayerFiles.entries(ofDirectory: fd, path: dir) {
            let r = rel.isEmpty ? name : rel + "/" + name
            let p = root + "/" + r
            let st = try FileSystem.lstatAt(fd, name, path: p)
            var d = "mode=\(String(st.st_mode, radix: 8)) uid=\(st.st_uid) gid=\(st.st_gid)"
            let type = st.st_mode & S_IFMT
            if type == S_IFREG {
                d += " size=\(st.st_size) sha=\(Digest.sha256(try Data(contentsOf: URL(fileURLWithPath: p))).short)"
                if st.st_nlink > 1 {
                    if let first = inodes[UInt64(st.st_ino)] { d += " linkof=\(first)" } else { inodes[UInt64(st.st_ino)] = r }
                }
            }
            if type == S_IFLNK { d += " -> " + (try LayerFiles.readLink(fd, name, path: p)) }
            if type == S_IFCHR || type == S_IFBLK { d += " rdev=\(st.st_rdev)" }
            if mtimes && type != S_IFDIR { d += " mtime=\(st.st_mtim.tv_sec)" }
            if mtimes && type == S_IFDIR { d += " dmtime=\(st.st_mtim.tv_sec)" }
            let x = try LayerFiles.xattrs(p).filter { !$0.key.hasPrefix("trusted.overlay.") }
            for k in x.keys.sorted() { d += " \(k)=\(x[k]!)" }
            out[r] = d
            if type == S_IFDIR { try walk(r) }
        }
    }
    try walk("")
    return out
}

/// Mounts an overlay (redirect_dir and metacopy off, as the builder mounts it).
func mountOverlay(lower: String, upper: String, work: String, merged: String) async throws {
    try await shell("mount -t overlay overlay -o lowerdir=\(lower),upperdir=\(upper),workdir=\(work),redirect_dir=off,metacopy=off,index=off \(merged)")
}
