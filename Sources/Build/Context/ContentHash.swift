import Foundation
import OCI
import Synchronization

/// Per-build memo of file content digests, reused while the file's identity, size, mtime and
/// ctime are unchanged (so a file edited mid-build is read again). Trees are re-walked each
/// time: a walk costs stats, not reads.
final class ContentMemo: Sendable {
    private let files = Mutex<[String: (FileStat, String)]>([:])

    func file(_ path: String, _ st: FileStat) -> String? {
        files.withLock { d in
            guard let (cached, digest) = d[path], cached == st else { return nil }
            return digest
        }
    }
    func storeFile(_ path: String, _ st: FileStat, _ digest: String) {
        files.withLock { $0[path] = (st, digest) }
    }
}

extension BuildContext {
    /// The digest COPY/ADD cache keys use for a set of resolved sources: for every entry that
    /// would be copied, its path (relative to the source), type, permission bits, owner, size,
    /// content sha256, symlink target, device numbers and xattrs. Not timestamps, so `touch`
    /// keeps the digest while any edit changes it. Only the named sources are read.
    public func contentDigest(of sources: [ResolvedSource], excludes: PathPatternSet? = nil) throws -> Digest {
        var hasher = SHA256Hasher()
        for s in sources {
            hasher.update(Data("source\0\(s.path)\0\(try digest(of: s, excludes: excludes))\n".utf8))
        }
        return hasher.finalize()
    }

    /// The digest of one source (a file, or a directory and everything visible below it).
    public func digest(of source: ResolvedSource, excludes: PathPatternSet? = nil) throws -> Digest {
        var hasher = SHA256Hasher()
        hasher.update(Data(try record(".", source.hostPath, source.stat).utf8))
        if source.stat.kind == .directory {
            let prefix = source.resolved.isEmpty ? 0 : source.resolved.count + 1
            try walk(under: source.resolved, hostPath: source.hostPath) { rel, host, st, visible in
                let sub = String(rel.dropFirst(prefix))
                if let ex = excludes, ex.matches(sub) {
                    return st.kind == .directory && ex.hasNegations
                }
                if visible { hasher.update(Data(try record(sub, host, st).utf8)) }
                return true
            }
        }
        return hasher.finalize()
    }

    private func record(_ rel: String, _ host: String, _ st: FileStat) throws -> String {
        var content = ""
        var link = ""
        var size: Int64 = 0
        switch st.kind {
        case .regular:
            content = try fileDigest(host, st)
            size = st.size
        case .symlink:
            do { link = try POSIX.readlink(host) } catch { throw ContextError.io(error) }
        default: break
        }
        let rdev = (st.kind == .charDevice || st.kind == .blockDevice) ? String(st.rdev) : ""
        let xattrs = POSIX.xattrs(host).map { "\($0.name)=\(POSIX.hex($0.value))" }.joined(separator: ";")
        return [rel, st.kind.rawValue, String(st.permissions, radix: 8), String(st.uid), String(st.gid),
                String(size), content, link, rdev, xattrs].joined(separator: "\0") + "\n"
    }

    /// sha256 of a regular file's bytes, memoized for the build.
    func fileDigest(_ host: String, _ st: FileStat) throws -> String {
        if let d = memo.file(host, st) { return d }
        let fd = open(host, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw ContextError.io(FileSystemError(operation: "open", path: host, errno: errno)) }
        defer { close(fd) }
        var hasher = SHA256Hasher()
        let bufSize = 1 << 20
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: bufSize, alignment: 16)
        defer { buf.deallocate() }
        while true {
            let n = read(fd, buf.baseAddress, bufSize)
            if n < 0 {
                if errno == EINTR { continue }
                throw ContextError.io(FileSystemError(operation: "read", path: host, errno: errno))
            }
            if n == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buf[0..<n]))
        }
        let d = hasher.finalize().encoded
        memo.storeFile(host, st, d)
        return d
    }
}
