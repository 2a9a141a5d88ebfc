import CLinux
import Foundation
import System

/// Writes copied entries under a target root. Only the destination path given by the user is
/// resolved through symlinks (chrooted at the root); below it every existing entry is checked
/// with `lstat` and a non-directory is replaced rather than followed, so nothing is ever
/// written outside the root.
final class TreeWriter {
    let root: String
    let spec: CopySpec
    let source: BuildContext
    let owner: Ownership?
    let mode: ChmodSpec?
    let excludes: PathPatternSet?
    private(set) var count = 0
    /// Hard-linked source inodes already copied: "dev:ino" → destination path.
    private var inodes: [String: String] = [:]
    /// Directories not (yet) created because they are filtered out themselves; created when a
    /// visible entry below them is copied (BuildKit's delayed parent directories).
    private var pending: [(src: String, st: FileStat, dst: String, made: Bool)] = []

    init(root: String, spec: CopySpec, source: BuildContext, owner: Ownership?, mode: ChmodSpec?, excludes: PathPatternSet?) {
        self.root = root
        self.spec = spec
        self.source = source
        self.owner = owner
        self.mode = mode
        self.excludes = excludes
    }

    func shown(_ host: String) -> String {
        let rel = host.hasPrefix(root) ? String(host.dropFirst(root.count)) : host
        return rel.isEmpty ? "/" : rel
    }

    func fail(_ op: String, _ path: String, _ e: Int32 = errno) -> CopyError {
        spec.error(.io(FileSystemError(operation: op, path: shown(path), errno: e).description))
    }

    func resolve(_ abs: String) throws -> ScopedPath {
        do { return try ScopedPath.resolve(root: root, path: abs, scope: .chroot, followFinal: true) } catch {
            throw spec.error(.io("resolving destination \(abs): \(error)"))
        }
    }

    /// Creates every missing directory of `abs` (0755 or the --chmod octal mode, owned by the
    /// --chown user or root), returning the host path.
    @discardableResult
    func mkdirAll(_ abs: String) throws -> String {
        let comps = ScopedPath.cleanComponents(abs)
        var host = root
        var perm: UInt32 = 0o755
        if case .octal(let m) = mode { perm = m }
        for i in 0..<comps.count {
            let sp = try resolve("/" + comps[0...i].joined(separator: "/"))
            host = sp.hostPath
            if let st = try? FileStat.lstat(host) {
                guard st.kind == .directory else {
                    throw spec.error(.typeConflict("cannot create directory \(shown(host)): a file is in the way"))
                }
                continue
            }
            // Missing: create it and any missing parents along the resolved path (a symlink on
            // the way may point at a deeper path that does not exist yet).
            var made = root
            for comp in ScopedPath.cleanComponents(sp.relative) {
                made = FileSystem.join(made, comp)
                if let st = try? FileStat.lstat(made) {
                    guard st.kind == .directory else {
                        throw spec.error(.typeConflict("cannot create directory \(shown(made)): a file is in the way"))
                    }
                    continue
                }
                guard mkdir(made, perm) == 0 || errno == EEXIST else { throw fail("mkdir", made) }
                chmod(made, mode_t(perm))
                let o = owner ?? Ownership(uid: 0, gid: 0)
                lchown(made, o.uid, o.gid)
            }
        }
        return host
    }

    // MARK: - Top-level sources

    /// Copies one matched source to `destination` with BuildKit's rules: a directory's
    /// contents go into the destination directory; a file goes into an existing directory
    /// under its own name, or becomes the destination file.
    func copyTop(_ s: ResolvedSource, destination: String) throws {
        let dest = try resolve(destination)
        let destStat = try? FileStat.lstat(dest.hostPath)
        if s.stat.kind == .directory {
            let host: String
            if let ds = destStat ?? nil {
                guard ds.kind == .directory else {
                    throw spec.error(.typeConflict("cannot copy to non-directory: \(shown(dest.hostPath))"))
                }
                host = dest.hostPath
            } else {
                host = try mkdirAll(destination)
            }
            try copyNode(src: s.hostPath, st: s.stat, filterRel: s.resolved, subRel: "", dst: host, top: true, visible: true)
        } else {
            var host = dest.hostPath
            if let ds = destStat ?? nil, ds.kind == .directory {
                host = FileSystem.join(host, s.baseName)
            }
            try copyNode(src: s.hostPath, st: s.stat, filterRel: s.resolved, subRel: "", dst: host, top: false, visible: true)
        }
    }

    /// `--parents`: recreates the path of the match below its pivot, directories taking the
    /// source directories' metadata.
    func copyWithParents(_ m: Copier.Match, destination: String) throws {
        let rel = ScopedPath.cleanComponents(m.source.path)
        let pivot = ScopedPath.cleanComponents(m.pivot)
        let kept = Array(rel.dropFirst(pivot.count))
        var dst = try resolve(destination).hostPath
        var srcRel = pivot
        for comp in kept.dropLast() {
            srcRel.append(comp)
            dst = FileSystem.join(dst, comp)
            // The source directory (through any symlink the match already went through).
            let sp = try? ScopedPath.resolve(root: source.root, path: srcRel.joined(separator: "/"),
                                             scope: source.scope, followFinal: true)
            let created = try ensureDirectory(dst, overwrite: false)
            guard created else { continue }
            if let sp, let st = (try? FileStat.lstat(sp.hostPath)) ?? nil, st.kind == .directory {
                try applyInfo(dst, st, src: sp.hostPath)
            } else {
                chmod(dst, 0o755)
            }
            count += 1
        }
        if let last = kept.last { dst = FileSystem.join(dst, last) }
        try copyNode(src: m.source.hostPath, st: m.source.stat, filterRel: m.source.resolved, subRel: "",
                     dst: dst, top: false, visible: true)
    }

    // MARK: - The recursive copy

    func copyNode(src: String, st: FileStat, filterRel: String, subRel: String, dst: String, top: Bool, visible: Bool) throws {
        if st.kind == .directory {
            var created = false
            if visible {
                try materializePending()
                created = try ensureDirectory(dst, overwrite: !top)
            } else {
                pending.append((src, st, dst, false))
            }
            let names: [String]
            do { names = try FileSystem.entries(src) } catch { throw spec.error(.io(FileSystemError(error).description)) }
            for name in names {
                let childSrc = FileSystem.join(src, name)
                // Never copy the target into itself (a context that contains the step's root).
                if childSrc == root { continue }
                let childFilter = filterRel.isEmpty ? name : filterRel + "/" + name
                let childSub = subRel.isEmpty ? name : subRel + "/" + name
                guard let cst = try? FileStat.lstat(childSrc) else { continue }
                var childVisible = source.filter.includes(childFilter)
                if !childVisible && !(cst.kind == .directory && source.filter.mightIncludeUnder(childFilter)) { continue }
                if let ex = excludes, ex.matches(childSub) {
                    guard cst.kind == .directory && ex.hasNegations else { continue }
                    childVisible = false
                }
                try copyNode(src: childSrc, st: cst, filterRel: childFilter, subRel: childSub,
                             dst: FileSystem.join(dst, name), top: false, visible: childVisible)
            }
            if visible {
                if created || !top { try applyInfo(dst, st, src: src) } else { setTimes(dst, st) }
                if created { count += 1 }
            } else if let last = pending.popLast(), last.made {
                try applyInfo(dst, st, src: src)
                count += 1
            }
            return
        }
        guard visible else { return }
        try materializePending()
        try clearForFile(dst)
        switch st.kind {
        case .regular:
            let key = "\(st.device):\(st.inode)"
            if st.links > 1, let first = inodes[key] {
                guard link(first, dst) == 0 else { throw fail("link", dst) }
            } else {
                try copyFile(src, dst)
                if st.links > 1 { inodes[key] = dst }
            }
        case .symlink:
            let target: String
            do { target = try FileSystem.readLink(src) } catch { throw spec.error(.io(FileSystemError(error).description)) }
            guard symlink(target, dst) == 0 else { throw fail("symlink", dst) }
        case .fifo, .socket, .charDevice, .blockDevice:
            let type: mode_t
            switch st.kind {
            case .fifo: type = S_IFIFO
            case .socket: type = S_IFSOCK
            case .charDevice: type = S_IFCHR
            default: type = S_IFBLK
            }
            guard mknod(dst, type | mode_t(st.permissions), dev_t(st.rdev)) == 0 else { throw fail("mknod", dst) }
        case .directory:
            break
        }
        try applyInfo(dst, st, src: src)
        count += 1
    }

    private func materializePending() throws {
        for i in pending.indices where !pending[i].made {
            _ = try ensureDirectory(pending[i].dst, overwrite: false)
            pending[i].made = true
        }
    }

    /// Makes `dst` a directory; true when it was created. An existing non-directory is an
    /// error (BuildKit: "cannot copy to non-directory").
    private func ensureDirectory(_ dst: String, overwrite: Bool) throws -> Bool {
        if let st = try? FileStat.lstat(dst) {
            guard st.kind == .directory else {
                throw spec.error(.typeConflict("cannot copy to non-directory: \(shown(dst))"))
            }
            return false
        }
        guard mkdir(dst, 0o700) == 0 else { throw fail("mkdir", dst) }
        return true
    }

    /// Removes whatever non-directory sits at `dst` (a symlink is removed, never followed).
    private func clearForFile(_ dst: String) throws {
        guard let st = try? FileStat.lstat(dst) else { return }
        if st.kind == .directory {
            throw spec.error(.typeConflict("cannot replace directory \(shown(dst)) with a file"))
        }
        guard unlink(dst) == 0 else { throw fail("unlink", dst) }
    }

    private func copyFile(_ src: String, _ dst: String) throws {
        let i = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard i >= 0 else { throw spec.error(.io(FileSystemError(operation: "open", path: src, errno: errno).description)) }
        defer { close(i) }
        let o = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard o >= 0 else { throw fail("create", dst) }
        defer { close(o) }
        let size = 1 << 20
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { buf.deallocate() }
        while true {
            let n = read(i, buf.baseAddress, size)
            if n < 0 {
                if errno == EINTR { continue }
                throw spec.error(.io(FileSystemError(operation: "read", path: src, errno: errno).description))
            }
            if n == 0 { break }
            let e = FileIO.writeFully(o, UnsafeRawBufferPointer(rebasing: buf[0..<n]))
            if e != 0 { throw fail("write", dst, e) }
        }
    }

    /// Owner (the --chown user; root for context files; the source's owner for stage files),
    /// mode (--chmod or the source's), timestamps and xattrs, as fsutil's copyFileInfo does.
    func applyInfo(_ dst: String, _ st: FileStat, src: String) throws {
        let o = owner ?? (source.isContext ? Ownership(uid: 0, gid: 0) : Ownership(uid: st.uid, gid: st.gid))
        guard lchown(dst, o.uid, o.gid) == 0 else { throw fail("lchown", dst) }
        if st.kind != .symlink {
            let m = mode?.apply(to: st.permissions, isDirectory: st.kind == .directory) ?? st.permissions
            guard chmod(dst, mode_t(m)) == 0 else { throw fail("chmod", dst) }
        }
        setTimes(dst, st)
        // Like BuildKit, xattrs are copied on a best-effort basis (errors ignored).
        for x in (try? FileSystem.xattrs(src)) ?? [] where !x.name.hasPrefix("trusted.overlay.") {
            try? FileSystem.setXattr(dst, name: x.name, value: x.value)
        }
    }

    func setTimes(_ dst: String, _ st: FileStat) {
        var times = [st.atime, st.mtime]
        utimensat(AT_FDCWD, dst, &times, AT_SYMLINK_NOFOLLOW)
    }
}
