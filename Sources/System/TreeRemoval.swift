#if canImport(Glibc)
import Glibc
#endif

/// `rm -rf` for every module: layer whiteouts, store snapshots and temp files, build scratch,
/// snapshots and bundles.
extension FileSystem {
    /// Removes the file or tree at `path`; a missing one is fine.
    public static func removeTree(_ path: String) throws(SystemError) {
        let slash = path.lastIndex(of: "/")
        let parent = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !name.isEmpty, name != ".", name != ".." else {
            throw SystemError(operation: "remove", path: path, errno: EINVAL)
        }
        let fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return }
            throw SystemError.last("open", path: parent)
        }
        defer { close(fd) }
        try removeAll(at: fd, name, path: path)
    }

    /// Removes `name` in the directory open at `dirfd` and everything below it, never following
    /// a symlink. Iterative and holding one descriptor at a time (it climbs back with "..", which
    /// a real directory cannot redirect): a RUN step can leave a tree thousands of levels deep,
    /// and recursion would run out of descriptors or stack. Names are kept as bytes, so names
    /// that are not UTF-8 go too. A directory on another device (a mount point inside the tree,
    /// or the tree itself) is detached rather than emptied, so a mount left behind never has
    /// what it shows deleted. It carries on past a failure and throws the first one at the end,
    /// removing as much as it can.
    public static func removeAll(at dirfd: Int32, _ name: String, path: String) throws(SystemError) {
        var first: SystemError?
        func fail(_ error: SystemError) { if first == nil { first = error } }
        if unlinkat(dirfd, name, 0) == 0 { return }
        let e = errno
        if e == ENOENT { return }
        guard e == EISDIR || e == EPERM else { throw SystemError(operation: "remove", path: path, errno: e) }
        var top = stat()
        guard fstatat(dirfd, name, &top, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return }
            throw SystemError.last("stat", path: path)
        }
        guard (top.st_mode & S_IFMT) == S_IFDIR else { throw SystemError(operation: "remove", path: path, errno: e) }
        var fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 { throw SystemError.last("open", path: path) }
        defer { close(fd) }
        makeWritable(fd)
        struct Frame { let name: [UInt8]; var pending: [[UInt8]] }
        var stack = [Frame(name: [], pending: [])]
        do throws(SystemError) { stack[0].pending = try entryNames(ofDirectory: fd, path: path) } catch { fail(error) }
        func here() -> String {
            path + stack.dropFirst().map { "/" + String(decoding: $0.name, as: UTF8.self) }.joined()
        }
        while !stack.isEmpty {
            if let child = stack[stack.count - 1].pending.popLast() {
                let childPath = { here() + "/" + String(decoding: child, as: UTF8.self) }
                if withCName(child, { unlinkat(fd, $0, 0) }) == 0 { continue }
                let e = errno
                if e == ENOENT { continue }
                guard e == EISDIR || e == EPERM else { fail(SystemError(operation: "remove", path: childPath(), errno: e)); continue }
                var st = stat()
                if withCName(child, { fstatat(fd, $0, &st, AT_SYMLINK_NOFOLLOW) }) != 0 { continue }
                guard (st.st_mode & S_IFMT) == S_IFDIR else { fail(SystemError(operation: "remove", path: childPath(), errno: e)); continue }
                if st.st_dev != top.st_dev {
                    // A mount point inside the tree: detach it rather than empty what it shows.
                    umount2(childPath(), Int32(MNT_DETACH))
                    if withCName(child, { fstatat(fd, $0, &st, AT_SYMLINK_NOFOLLOW) }) != 0 { continue }
                    if st.st_dev != top.st_dev {
                        fail(SystemError(operation: "unmount", path: childPath(), errno: EBUSY))
                        continue
                    }
                }
                let sub = withCName(child) { openat(fd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
                if sub < 0 { let e = errno; fail(SystemError(operation: "open", path: childPath(), errno: e)); continue }
                close(fd)
                fd = sub
                makeWritable(fd)
                stack.append(Frame(name: child, pending: []))
                do throws(SystemError) { stack[stack.count - 1].pending = try entryNames(ofDirectory: fd, path: here()) } catch { fail(error) }
                continue
            }
            let done = stack.removeLast()
            if stack.isEmpty { break }
            let up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if up < 0 { let e = errno; fail(SystemError(operation: "open", path: here() + "/..", errno: e)); break }
            close(fd)
            fd = up
            if withCName(done.name, { unlinkat(fd, $0, AT_REMOVEDIR) }) != 0 {
                let e = errno
                if e != ENOENT {
                    fail(SystemError(operation: "remove directory", path: here() + "/" + String(decoding: done.name, as: UTF8.self), errno: e))
                }
            }
        }
        if unlinkat(dirfd, name, AT_REMOVEDIR) != 0 {
            let e = errno
            // EBUSY: the tree itself is a mount point; detach it, then remove the directory.
            let detached = e == EBUSY && umount2(path, Int32(MNT_DETACH)) == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) == 0
            if e != ENOENT && !detached { fail(SystemError(operation: "remove directory", path: path, errno: e)) }
        }
        if let first { throw first }
    }

    /// A read-only directory (0555 from a layer) cannot be emptied without root; give the
    /// owner write permission first. Harmless for root, which ignores the bit.
    private static func makeWritable(_ fd: Int32) {
        var st = stat()
        if fstat(fd, &st) == 0 && st.st_mode & S_IWUSR == 0 { _ = fchmod(fd, (st.st_mode & 0o7777) | S_IRWXU) }
    }

    /// Calls `body` with `name` as a NUL-terminated C string.
    private static func withCName<R>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
        (name + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
        }
    }
}
