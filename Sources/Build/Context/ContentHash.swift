import Foundation
import OCI
import Synchronization
import System

/// Memo of file content digests, reused while the file's identity (device, inode), size, mtime
/// and ctime are unchanged — any write or chmod moves ctime, so an edited file is read again.
/// Lives for one build, and can be saved to and loaded from a file so that the next build
/// (a no-change rebuild) reads no file contents at all. Trees are re-walked each time: a walk
/// costs stats, not reads.
final class ContentMemo: Sendable {
    struct Identity: Hashable, Sendable {
        let device: UInt64, inode: UInt64, size: Int64
        let mtimeSec: Int, mtimeNsec: Int, ctimeSec: Int, ctimeNsec: Int
        init(_ st: FileStat) {
            device = st.device; inode = st.inode; size = st.size
            mtimeSec = st.mtime.tv_sec; mtimeNsec = st.mtime.tv_nsec
            ctimeSec = st.ctime.tv_sec; ctimeNsec = st.ctime.tv_nsec
        }
        init(device: UInt64, inode: UInt64, size: Int64, mtimeSec: Int, mtimeNsec: Int, ctimeSec: Int, ctimeNsec: Int) {
            self.device = device; self.inode = inode; self.size = size
            self.mtimeSec = mtimeSec; self.mtimeNsec = mtimeNsec; self.ctimeSec = ctimeSec; self.ctimeNsec = ctimeNsec
        }
    }

    private let files = Mutex<[String: (Identity, String)]>([:])
    /// Whether a digest was computed since the memo was loaded: a no-change rebuild then has
    /// nothing new to save, and skips the write and its fsync.
    private let changed = Atomic<Bool>(false)

    func file(_ path: String, _ st: FileStat) -> String? {
        let id = Identity(st)
        return files.withLock { d in
            guard let (cached, digest) = d[path], cached == id else { return nil }
            return digest
        }
    }
    func storeFile(_ path: String, _ st: FileStat, _ digest: String) {
        files.withLock { $0[path] = (Identity(st), digest) }
        changed.store(true, ordering: .relaxed)
    }

    /// Lines of `digest dev ino size msec mnsec csec cnsec path`, tab-separated.
    func load(_ file: String) {
        guard let data = FileManager.default.contents(atPath: file) else { return }
        var loaded: [String: (Identity, String)] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let f = line.split(separator: "\t", maxSplits: 8, omittingEmptySubsequences: false)
            guard f.count == 9, f[0].count == 64, let dev = UInt64(f[1]), let ino = UInt64(f[2]), let size = Int64(f[3]),
                  let ms = Int(f[4]), let mn = Int(f[5]), let cs = Int(f[6]), let cn = Int(f[7]) else { continue }
            loaded[String(f[8])] = (Identity(device: dev, inode: ino, size: size, mtimeSec: ms, mtimeNsec: mn,
                                             ctimeSec: cs, ctimeNsec: cn), String(f[0]))
        }
        files.withLock { d in d.merge(loaded) { current, _ in current } }
    }

    /// Writes the memo atomically (temp file, fsync, rename). Entries changed in the last two
    /// seconds are left out: a file rewritten within the same timestamp tick could otherwise
    /// keep a stale digest (git's "racy" entries).
    func save(_ file: String, racyWindow: Int = 2) throws {
        if !changed.load(ordering: .relaxed), access(file, F_OK) == 0 { return }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var out = ""
        for (path, (id, digest)) in files.withLock({ $0 }) where !path.contains("\n") && !path.contains("\t") {
            if id.mtimeSec >= now.tv_sec - racyWindow || id.ctimeSec >= now.tv_sec - racyWindow { continue }
            out += "\(digest)\t\(id.device)\t\(id.inode)\t\(id.size)\t\(id.mtimeSec)\t\(id.mtimeNsec)\t\(id.ctimeSec)\t\(id.ctimeNsec)\t\(path)\n"
        }
        let tmp = file + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ContextError.io(FileSystemError(operation: "open", path: tmp, errno: errno)) }
        let e = Array(out.utf8).withUnsafeBytes { FileIO.writeFully(fd, $0) }
        let synced = e == 0 ? fsync(fd) : 0
        let syncErrno = errno
        close(fd)
        if e != 0 || synced != 0 {
            unlink(tmp)
            throw ContextError.io(FileSystemError(operation: e != 0 ? "write" : "fsync", path: tmp, errno: e != 0 ? e : syncErrno))
        }
        guard rename(tmp, file) == 0 else {
            let e = errno
            unlink(tmp)
            throw ContextError.io(FileSystemError(operation: "rename", path: file, errno: e))
        }
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
    /// `visit` sees every record hashed: its path below the source ("." for the source itself),
    /// the record and the entry's metadata (`listing` is made from it).
    public func digest(of source: ResolvedSource, excludes: PathPatternSet? = nil,
                       visit: ((String, String, FileStat) -> Void)? = nil) throws -> Digest {
        var hasher = SHA256Hasher()
        let top = try record(".", source.hostPath, source.stat)
        visit?(".", top, source.stat)
        hasher.update(Data(top.utf8))
        if source.stat.kind == .directory {
            let prefix = source.resolved.isEmpty ? 0 : source.resolved.count + 1
            try walk(under: source.resolved, hostPath: source.hostPath) { rel, host, st, visible in
                let sub = String(rel.dropFirst(prefix))
                if let ex = excludes, ex.matches(sub) {
                    return st.kind == .directory && ex.hasNegations
                }
                if visible {
                    let r = try record(sub, host, st)
                    visit?(sub, r, st)
                    hasher.update(Data(r.utf8))
                }
                return true
            }
        }
        return hasher.finalize()
    }

    /// What `contentDigest` covers, entry by entry (files and links; directories only as the
    /// place of their entries): for explaining which file made a COPY miss the cache.
    public func listing(of sources: [ResolvedSource], excludes: PathPatternSet? = nil) throws -> SelectionListing {
        var out = SelectionListing()
        for s in sources {
            _ = try digest(of: s, excludes: excludes) { sub, record, st in
                guard st.kind != .directory else { return }
                let path = sub == "." ? s.path : (s.path.isEmpty ? sub : s.path + "/" + sub)
                out.add(.init(path: path.isEmpty ? "." : path, identity: String(Digest.sha256(record).encoded.prefix(16)),
                              size: st.kind == .regular ? st.size : 0))
            }
        }
        return out
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
            do { link = try FileSystem.readLink(host) } catch { throw ContextError.io(FileSystemError(error)) }
        default: break
        }
        let rdev = (st.kind == .charDevice || st.kind == .blockDevice) ? String(st.rdev) : ""
        let xattrs = ((try? FileSystem.xattrs(host)) ?? []).map { "\($0.name)=\(SHA256Hasher.hex($0.value))" }.joined(separator: ";")
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
