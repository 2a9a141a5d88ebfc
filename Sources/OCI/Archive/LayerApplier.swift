import CLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import System

/// Streams a layer (any compression) onto a directory.
///
/// Safety: every entry is created with `*at` system calls relative to directory descriptors
/// obtained by walking the path one component at a time with `O_NOFOLLOW`, so no write is ever
/// resolved by the kernel through a symlink. Rules (containerd's for absolute paths, stricter
/// for the rest):
/// - a leading `/` is dropped (absolute paths are taken relative to the root, as containerd does);
/// - a `..` component anywhere in an entry's path or hardlink target is refused;
/// - a symlink met in a *parent* position is followed only inside the root, as if chrooted
///   (an absolute target starts again at the root); one whose target climbs above the root with
///   `..` is refused. The final component is never followed: an existing symlink there is
///   replaced, not written through;
/// - a hardlink's target must already exist inside the root and must not be a directory.
/// Every refusal is an `ArchiveError.unsafePath` naming the entry.
public struct LayerApplier: Sendable {
    public enum Mode: Sendable, Hashable {
        /// Apply on top of an existing tree: `.wh.NAME` deletes NAME, `.wh..wh..opq` deletes what
        /// lower layers put in the directory. Produces a flattened rootfs.
        case flatten
        /// Extract into an empty directory in overlayfs' own format (`.wh.NAME` becomes a char
        /// device 0:0, `.wh..wh..opq` becomes `trusted.overlay.opaque=y`), so that extracted
        /// layers can be stacked as overlay lowerdirs.
        case overlayLower
    }

    public var mode: Mode
    /// Restore uid/gid (needs root). Defaults to true when running as root.
    public var preserveOwnership: Bool
    /// Create character and block device entries. Defaults to true only when running as root:
    /// unprivileged, mknod of a device fails, and (like containerd's rootless unpacking) a
    /// device entry is then skipped rather than failing the whole layer.
    public var createDevices: Bool
    /// The layers below this one, topmost first (overlay-lower snapshots, or trees). A parent
    /// directory the layer needs but does not list (an archive holding `tmp/foo` and no `tmp/`)
    /// takes its mode, owner and times from the topmost of these that has that directory, as
    /// containerd does; otherwise — or when that lower has a non-directory (a whiteout, a file)
    /// there, or an opaque directory above it — it is created 0755, root-owned. Extended
    /// attributes are not copied. With `.flatten` onto a tree that already holds the lower
    /// layers, a missing parent is missing from them too, so the default applies unless
    /// other trees are named here.
    public var lowerDirectories: [String]
    /// The most an apply may write: file contents plus 512 bytes per entry (its inode and
    /// directory slot, so a million empty files count too). `nil` is no limit. ADD sets it so a
    /// crafted archive (a "decompression bomb") stops with `ArchiveError.sizeLimit` before it
    /// fills the store's filesystem, instead of after.
    public var sizeLimit: Int64?

    public init(mode: Mode = .flatten, preserveOwnership: Bool = geteuid() == 0, createDevices: Bool = geteuid() == 0,
                lowerDirectories: [String] = [], sizeLimit: Int64? = nil) {
        self.mode = mode
        self.preserveOwnership = preserveOwnership
        self.createDevices = createDevices
        self.lowerDirectories = lowerDirectories
        self.sizeLimit = sizeLimit
    }

    /// What an apply did; `diffID` is the sha256 of the uncompressed tar, for checking against
    /// an image config's rootfs.diff_ids.
    public struct Result: Sendable, Hashable {
        public var diffID: Digest
        public var uncompressedSize: Int64
        public var compression: LayerCompression
        public var entries: Int
        public var whiteouts: Int
    }

    /// Applies the layer blob at `blob` (gzip, zstd or plain tar, detected) onto `root`.
    @discardableResult
    public func apply(blob: String, to root: String) throws -> Result {
        try apply(stream: FileSource(path: blob), to: root)
    }

    /// Applies a layer read from `stream` (compression detected from its first bytes).
    @discardableResult
    public func apply(stream: ByteSource, to root: String) throws -> Result {
        let decompressed = try AutoDecompressor(from: stream)
        let hashing = HashingSource(decompressed)
        let reader = TarReader(source: hashing)
        var state = try ApplyState(root: root, mode: mode, preserveOwnership: preserveOwnership, createDevices: createDevices,
                                   lowerDirectories: lowerDirectories)
        defer { state.close() }
        var entries = 0
        var whiteouts = 0
        var budget = sizeLimit ?? .max
        while let entry = try reader.next() {
            entries += 1
            if entry.isWhiteout { whiteouts += 1 }
            let cost = 512 + (entry.kind == .regular ? max(entry.size, 0) : 0)
            guard cost <= budget else {
                throw ArchiveError.sizeLimit(entry: entry.path, limit: sizeLimit ?? .max)
            }
            budget -= cost
            try state.apply(entry, reader: reader)
        }
        try state.finish()
        // Hash whatever follows the end-of-archive marker so the diffID covers the whole stream.
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { scratch.deallocate() }
        while try hashing.read(into: scratch) > 0 {}
        return Result(diffID: hashing.finalize(), uncompressedSize: hashing.count,
                      compression: decompressed.compression, entries: entries, whiteouts: whiteouts)
    }
}

/// Refuses an entry no extraction would accept (a `..` component or NUL in its path or in a
/// hard link's target): what `import` checks while it reads, so a bad tarball fails there and
/// not at first use.
func checkExtractable(_ entry: TarEntry) throws {
    _ = try safeComponents(entry.path, entry: entry.path)
    if entry.kind == .hardlink { _ = try safeComponents(entry.linkName, entry: entry.path, what: "link target") }
}

/// Splits an entry path into safe components: leading "/" and "." dropped, ".." refused.
func safeComponents(_ path: String, entry: String, what: String = "path") throws -> [String] {
    var out: [String] = []
    for part in path.split(separator: "/", omittingEmptySubsequences: true) {
        if part == "." { continue }
        if part == ".." {
            throw ArchiveError.unsafePath(entry: entry, reason: "its \(what) contains a '..' component")
        }
        if part.utf8.contains(0) {
            throw ArchiveError.unsafePath(entry: entry, reason: "its \(what) contains a NUL byte")
        }
        out.append(String(part))
    }
    if out.count > maxPathComponents {
        throw ArchiveError.unsupported(entry: entry, detail: "its \(what) has more than \(maxPathComponents) components")
    }
    return out
}

/// Deeper paths are refused: no real image comes close, and it bounds the work per entry.
let maxPathComponents = 1024

/// The state of one apply: the root descriptor, a cached parent directory, what this layer
/// wrote (for opaque directories) and directory times to set at the end.
private struct ApplyState {
    let root: String
    let rootfd: Int32
    let mode: LayerApplier.Mode
    let preserveOwnership: Bool
    let createDevices: Bool
    /// Layers below, topmost first (`LayerApplier.lowerDirectories`).
    let lowerDirectories: [String]
    /// The last parent directory resolved: literal path → (fd, resolved components).
    var cachedParent: (key: String, fd: Int32, resolved: [String])?
    /// Resolved paths created by this layer (an opaque marker keeps these).
    var written: Set<String> = []
    /// Directory times, applied last because creating children changes them.
    var directoryTimes: [(resolved: [String], mtime: Int64, nsec: Int32)] = []

    init(root: String, mode: LayerApplier.Mode, preserveOwnership: Bool, createDevices: Bool, lowerDirectories: [String]) throws {
        self.root = root
        self.mode = mode
        self.preserveOwnership = preserveOwnership
        self.createDevices = createDevices
        self.lowerDirectories = lowerDirectories
        rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if rootfd < 0 { throw ArchiveError.io(operation: "open", path: root, errno: errno) }
    }

    mutating func close() {
        dropCache()
        Glibc.close(rootfd)
    }

    mutating func dropCache() {
        if let c = cachedParent { Glibc.close(c.fd) }
        cachedParent = nil
    }

    func display(_ resolved: [String]) -> String { root + "/" + resolved.joined(separator: "/") }

    // MARK: - path resolution

    /// Opens the directory at `components` below the root, following symlinks only inside the
    /// root. Missing directories are created when `create` (with the metadata of the same
    /// directory in the lower layers, else 0755 root-owned: `implicitDirectory`); otherwise nil.
    mutating func openDirectory(_ components: [String], entry: String, create: Bool) throws -> (fd: Int32, resolved: [String])? {
        var fd = dup(rootfd)
        if fd < 0 { throw ArchiveError.io(operation: "dup", path: root, errno: errno) }
        var resolved: [String] = []
        var queue = Array(components.reversed())
        var followed = 0
        while let c = queue.popLast() {
            if c == "." || c.isEmpty { continue }
            if c == ".." {
                // Only symlink targets reach here (entry paths are checked first).
                guard !resolved.isEmpty else {
                    Glibc.close(fd)
                    throw ArchiveError.unsafePath(entry: entry, reason: "a symlink in its path leads outside the root")
                }
                resolved.removeLast()
                Glibc.close(fd)
                guard let reopened = try openDirectory(resolved, entry: entry, create: false) else {
                    throw ArchiveError.unsafePath(entry: entry, reason: "cannot resolve its parent directory")
                }
                fd = reopened.fd
                continue
            }
            var st = stat()
            if fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW) != 0 {
                let e = errno
                guard e == ENOENT, create else {
                    Glibc.close(fd)
                    if e == ENOENT { return nil }
                    throw ArchiveError.io(operation: "stat", path: display(resolved + [c]), errno: e)
                }
                if mkdirat(fd, c, 0o755) != 0 && errno != EEXIST {
                    let e = errno
                    Glibc.close(fd)
                    throw ArchiveError.io(operation: "mkdir", path: display(resolved + [c]), errno: e)
                }
                do { try implicitDirectory(fd, c, resolved: resolved + [c]) } catch {
                    Glibc.close(fd)
                    throw error
                }
                st.st_mode = S_IFDIR
            }
            switch FileSystem.fileType(st) {
            case S_IFDIR:
                let next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                let e = errno
                Glibc.close(fd)
                if next < 0 { throw ArchiveError.io(operation: "open", path: display(resolved + [c]), errno: e) }
                fd = next
                resolved.append(c)
            case S_IFLNK:
                followed += 1
                if followed > 40 {
                    Glibc.close(fd)
                    throw ArchiveError.unsafePath(entry: entry, reason: "too many levels of symlinks in its path")
                }
                let target: String
                do { target = try LayerFiles.readLink(fd, c, path: display(resolved + [c])) } catch {
                    Glibc.close(fd)
                    throw error
                }
                if target.hasPrefix("/") {
                    Glibc.close(fd)
                    fd = dup(rootfd)
                    resolved = []
                }
                for part in target.split(separator: "/", omittingEmptySubsequences: true).reversed() {
                    queue.append(String(part))
                }
            default:
                Glibc.close(fd)
                throw ArchiveError.unsafePath(entry: entry, reason: "'\(display(resolved + [c]))' is not a directory")
            }
        }
        return (fd, resolved)
    }

    /// Gives a directory this layer needs but does not list the metadata of the same directory
    /// in the topmost lower layer that has it (see `LayerApplier.lowerDirectories`).
    mutating func implicitDirectory(_ parentfd: Int32, _ name: String, resolved: [String]) throws {
        guard let lower = Self.lowerDirectoryStat(resolved, in: lowerDirectories) else { return }
        let path = display(resolved)
        if preserveOwnership && fchownat(parentfd, name, lower.st_uid, lower.st_gid, AT_SYMLINK_NOFOLLOW) != 0 {
            throw ArchiveError.io(operation: "chown", path: path, errno: errno)
        }
        if fchmodat(parentfd, name, lower.st_mode & 0o7777, 0) != 0 {
            throw ArchiveError.io(operation: "chmod", path: path, errno: errno)
        }
        // Times go with the other directories' at the end (creating children changes them).
        directoryTimes.append((resolved, Int64(lower.st_mtim.tv_sec), Int32(lower.st_mtim.tv_nsec)))
    }

    /// The stat of directory `components` in the topmost of `lowers` that decides it: the first
    /// lower holding the path (a directory: its stat; anything else: nil, the path was deleted
    /// or replaced there), or one whose opaque directory or non-directory on the way hides the
    /// layers below. Nothing is followed: each component is opened with O_NOFOLLOW.
    static func lowerDirectoryStat(_ components: [String], in lowers: [String]) -> stat? {
        for lower in lowers {
            var fd = open(lower, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd < 0 { continue }
            var decided = false
            var found: stat?
            for (i, c) in components.enumerated() {
                var st = stat()
                if fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW) != 0 {
                    // Missing here: the layers below decide, unless this directory is opaque.
                    decided = Self.isOpaque(fd)
                    break
                }
                guard FileSystem.fileType(st) == S_IFDIR else {
                    decided = true   // a whiteout, file or symlink replaces the path here
                    break
                }
                if i == components.count - 1 {
                    found = st
                    decided = true
                    break
                }
                let next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                Glibc.close(fd)
                fd = next
                if fd < 0 { decided = true; break }
            }
            if fd >= 0 { Glibc.close(fd) }
            if decided { return found }
        }
        return nil
    }

    static func isOpaque(_ fd: Int32) -> Bool {
        var value = [UInt8](repeating: 0, count: 4)
        for key in ["trusted.overlay.opaque", "user.overlay.opaque"] {
            let n = value.withUnsafeMutableBytes { fgetxattr(fd, key, $0.baseAddress, $0.count) }
            if n == 1 && value[0] == UInt8(ascii: "y") { return true }
        }
        return false
    }

    /// The parent directory of an entry, from the cache when the previous entry shared it.
    mutating func parent(of components: [String], entry: String, create: Bool) throws -> (fd: Int32, resolved: [String])? {
        let parentComponents = Array(components.dropLast())
        let key = parentComponents.joined(separator: "/")
        if let c = cachedParent, c.key == key { return (c.fd, c.resolved) }
        dropCache()
        guard let opened = try openDirectory(parentComponents, entry: entry, create: create) else { return nil }
        cachedParent = (key, opened.fd, opened.resolved)
        return opened
    }

    // MARK: - entries

    mutating func apply(_ entry: TarEntry, reader: TarReader) throws {
        let components = try safeComponents(entry.path, entry: entry.path)
        guard let name = components.last else {
            // The root itself ("./"): its metadata belongs to the extraction target, not the layer.
            return
        }
        if case .other(let flag) = entry.kind {
            // GNU sparse and multi-volume entries would silently lose data; other types
            // (volume labels, GNU dump directories) carry nothing to extract.
            if flag == UInt8(ascii: "S") || flag == UInt8(ascii: "M") {
                throw ArchiveError.unsupported(entry: entry.path, detail: "GNU sparse and multi-volume entries are not supported in layers")
            }
            return
        }
        if (entry.kind == .characterDevice || entry.kind == .blockDevice) && !createDevices {
            return
        }

        if name.hasPrefix(Whiteout.prefix) {
            try applyWhiteout(entry, components: components, name: name)
            return
        }

        guard let (pfd, presolved) = try parent(of: components, entry: entry.path, create: true) else { return }
        let resolved = presolved + [name]
        let full = display(resolved)

        // Replace what is there, except that a directory over a directory is merged.
        if let existing = try LayerFiles.lstatAtIfExists(pfd, name, path: full) {
            let existingIsDir = FileSystem.fileType(existing) == S_IFDIR
            if !(entry.kind == .directory && existingIsDir) {
                try removeAll(pfd, name, path: full)
                // A cached parent may have lived under (or been reached through) what went away;
                // `pfd` itself stays valid until the next lookup.
                forgetCacheKeeping(pfd)
            }
        }
        written.insert(resolved.joined(separator: "/"))
        let xattrs = entry.xattrs.filter { !$0.key.hasPrefix("trusted.overlay.") && !$0.key.hasPrefix("user.overlay.") }

        switch entry.kind {
        case .regular:
            let fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd < 0 { throw ArchiveError.io(operation: "create", path: full, errno: errno) }
            defer { Glibc.close(fd) }
            try reader.forEachChunk { chunk in
                let e = FileIO.writeFully(fd, chunk)
                if e != 0 { throw ArchiveError.io(operation: "write", path: full, errno: e) }
            }
            try restore(fd: fd, entry, xattrs: xattrs, path: full, times: true)
        case .directory:
            if mkdirat(pfd, name, 0o700) != 0 && errno != EEXIST {
                throw ArchiveError.io(operation: "mkdir", path: full, errno: errno)
            }
            let fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd < 0 { throw ArchiveError.io(operation: "open", path: full, errno: errno) }
            defer { Glibc.close(fd) }
            try restore(fd: fd, entry, xattrs: xattrs, path: full, times: false)
            directoryTimes.append((resolved, entry.mtime, entry.mtimeNanoseconds))
        case .symlink:
            if symlinkat(entry.linkName, pfd, name) != 0 {
                throw ArchiveError.io(operation: "symlink", path: full, errno: errno)
            }
            try restoreAt(pfd, name, entry, xattrs: xattrs, path: full, chmod: false)
        case .characterDevice, .blockDevice, .fifo:
            let type: mode_t = entry.kind == .fifo ? S_IFIFO : (entry.kind == .blockDevice ? S_IFBLK : S_IFCHR)
            let dev = entry.kind == .fifo ? 0 : clinux_makedev(entry.deviceMajor, entry.deviceMinor)
            if mknodat(pfd, name, type | 0o600, dev) != 0 {
                throw ArchiveError.io(operation: "mknod", path: full, errno: errno)
            }
            try restoreAt(pfd, name, entry, xattrs: xattrs, path: full, chmod: true)
        case .hardlink:
            let targetComponents = try safeComponents(entry.linkName, entry: entry.path, what: "hardlink target")
            guard let targetName = targetComponents.last else {
                throw ArchiveError.unsafePath(entry: entry.path, reason: "hardlink to the root directory")
            }
            guard let target = try openDirectory(Array(targetComponents.dropLast()), entry: entry.path, create: false) else {
                throw ArchiveError.unsafePath(entry: entry.path, reason: "hardlink target '\(entry.linkName)' does not exist in the layer's root")
            }
            defer { Glibc.close(target.fd) }
            guard let tst = try LayerFiles.lstatAtIfExists(target.fd, targetName, path: display(target.resolved + [targetName])) else {
                throw ArchiveError.unsafePath(entry: entry.path, reason: "hardlink target '\(entry.linkName)' does not exist in the layer's root")
            }
            if FileSystem.fileType(tst) == S_IFDIR {
                throw ArchiveError.unsafePath(entry: entry.path, reason: "hardlink target '\(entry.linkName)' is a directory")
            }
            if linkat(target.fd, targetName, pfd, name, 0) != 0 {
                throw ArchiveError.io(operation: "link to '\(entry.linkName)'", path: full, errno: errno)
            }
        case .other:
            return
        }
        if entry.kind == .symlink { forgetCacheKeeping(pfd) }
    }

    /// After a removal or a new symlink, a cached literal path may resolve differently. The
    /// cache is invalidated, but its descriptor is only closed once the current entry is done.
    mutating func forgetCacheKeeping(_ fd: Int32) {
        if let c = cachedParent {
            cachedParent = (key: "\u{0}stale", fd: c.fd, resolved: c.resolved)
        }
    }

    /// A cached parent inside `resolved` may have been removed; forget it.
    mutating func dropCacheIfUnder(_ resolved: [String]) {
        if cachedParent != nil { forgetCacheKeeping(-1) }
    }

    mutating func applyWhiteout(_ entry: TarEntry, components: [String], name: String) throws {
        let opaque = name == Whiteout.opaqueMarker
        if name.hasPrefix(Whiteout.metaPrefix) && !opaque { return }   // aufs metadata (.wh..wh.plnk …)
        switch mode {
        case .flatten:
            guard let (pfd, presolved) = try parent(of: components, entry: entry.path, create: false) else { return }
            if opaque {
                try clearOpaque(pfd, resolved: presolved)
            } else {
                let target = String(name.dropFirst(Whiteout.prefix.count))
                guard !target.isEmpty, target != ".", target != ".." else {
                    throw ArchiveError.unsafePath(entry: entry.path, reason: "whiteout of '\(target)'")
                }
                let resolved = presolved + [target]
                if written.contains(resolved.joined(separator: "/")) { return }   // created by this layer
                if try LayerFiles.lstatAtIfExists(pfd, target, path: display(resolved)) != nil {
                    try removeAll(pfd, target, path: display(resolved))
                    dropCacheIfUnder(resolved)
                }
            }
        case .overlayLower:
            guard let (pfd, presolved) = try parent(of: components, entry: entry.path, create: true) else { return }
            if opaque {
                let v: [UInt8] = Array("y".utf8)
                let rc = v.withUnsafeBytes { fsetxattr(pfd, "trusted.overlay.opaque", $0.baseAddress, 1, 0) }
                if rc != 0 { throw ArchiveError.io(operation: "setxattr trusted.overlay.opaque", path: display(presolved), errno: errno) }
            } else {
                let target = String(name.dropFirst(Whiteout.prefix.count))
                guard !target.isEmpty, target != ".", target != ".." else {
                    throw ArchiveError.unsafePath(entry: entry.path, reason: "whiteout of '\(target)'")
                }
                let resolved = presolved + [target]
                if try LayerFiles.lstatAtIfExists(pfd, target, path: display(resolved)) != nil {
                    try removeAll(pfd, target, path: display(resolved))
                    dropCacheIfUnder(resolved)
                }
                if mknodat(pfd, target, S_IFCHR, clinux_makedev(0, 0)) != 0 {
                    throw ArchiveError.io(operation: "mknod whiteout", path: display(resolved), errno: errno)
                }
                written.insert(resolved.joined(separator: "/"))
            }
        }
    }

    /// Removes everything under the directory that this layer did not write itself. Iterative:
    /// subdirectories this layer wrote are queued and reopened from the root one at a time.
    mutating func clearOpaque(_ dirfd: Int32, resolved: [String]) throws {
        var queue: [(fd: Int32?, resolved: [String])] = [(dirfd, resolved)]
        while let (given, dirResolved) = queue.popLast() {
            let fd: Int32
            if let given { fd = given } else {
                guard let opened = try openDirectory(dirResolved, entry: dirResolved.joined(separator: "/"), create: false) else { continue }
                fd = opened.fd
            }
            defer { if given == nil { Glibc.close(fd) } }
            let path = display(dirResolved)
            for child in try LayerFiles.entries(ofDirectory: fd, path: path) {
                let childResolved = dirResolved + [child]
                if !written.contains(childResolved.joined(separator: "/")) {
                    try removeAll(fd, child, path: display(childResolved))
                    dropCacheIfUnder(childResolved)
                } else if let st = try LayerFiles.lstatAtIfExists(fd, child, path: display(childResolved)),
                          FileSystem.fileType(st) == S_IFDIR {
                    queue.append((nil, childResolved))
                }
            }
        }
    }

    func removeAll(_ dirfd: Int32, _ name: String, path: String) throws {
        do { try FileSystem.removeAll(at: dirfd, name, path: path) } catch { throw ArchiveError(error) }
    }

    // MARK: - metadata

    static func timespecs(_ entry: TarEntry) -> [timespec] {
        let t = timespec(tv_sec: Int(entry.mtime), tv_nsec: Int(entry.mtimeNanoseconds))
        return [t, t]
    }

    /// Ownership first (it clears setuid bits and security.capability), then mode, xattrs, times.
    func restore(fd: Int32, _ entry: TarEntry, xattrs: [String: [UInt8]], path: String, times: Bool) throws {
        if preserveOwnership && fchown(fd, uid_t(truncatingIfNeeded: entry.uid), gid_t(truncatingIfNeeded: entry.gid)) != 0 {
            throw ArchiveError.io(operation: "chown", path: path, errno: errno)
        }
        if fchmod(fd, mode_t(entry.mode & 0o7777)) != 0 {
            throw ArchiveError.io(operation: "chmod", path: path, errno: errno)
        }
        for key in xattrs.keys.sorted() {
            let value = xattrs[key] ?? []
            let rc = value.withUnsafeBytes { fsetxattr(fd, key, $0.baseAddress, value.count, 0) }
            if rc != 0 && errno != ENOTSUP {
                throw ArchiveError.io(operation: "setxattr \(key)", path: path, errno: errno)
            }
        }
        if times {
            let ts = Self.timespecs(entry)
            if futimens(fd, ts) != 0 { throw ArchiveError.io(operation: "set times", path: path, errno: errno) }
        }
    }

    /// Metadata of a symlink, device or FIFO, addressed by name (never followed).
    func restoreAt(_ pfd: Int32, _ name: String, _ entry: TarEntry, xattrs: [String: [UInt8]], path: String, chmod: Bool) throws {
        if preserveOwnership && fchownat(pfd, name, uid_t(truncatingIfNeeded: entry.uid), gid_t(truncatingIfNeeded: entry.gid), AT_SYMLINK_NOFOLLOW) != 0 {
            throw ArchiveError.io(operation: "chown", path: path, errno: errno)
        }
        if chmod && fchmodat(pfd, name, mode_t(entry.mode & 0o7777), 0) != 0 {
            throw ArchiveError.io(operation: "chmod", path: path, errno: errno)
        }
        if !xattrs.isEmpty {
            // The /proc/self/fd path pins the parent; lsetxattr does not follow the final name.
            let viaProc = "/proc/self/fd/\(pfd)/\(name)"
            for key in xattrs.keys.sorted() {
                let value = xattrs[key] ?? []
                do { try FileSystem.setXattr(viaProc, name: key, value: value) } catch where error.errno != ENOTSUP && error.errno != EPERM {
                    throw ArchiveError.io(operation: "setxattr \(key)", path: path, errno: error.errno)
                } catch {}
            }
        }
        let ts = Self.timespecs(entry)
        if utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) != 0 {
            throw ArchiveError.io(operation: "set times", path: path, errno: errno)
        }
    }

    /// Sets directory times, deepest first.
    mutating func finish() throws {
        dropCache()
        for (resolved, mtime, nsec) in directoryTimes.reversed() {
            guard let name = resolved.last,
                  let parent = try openDirectory(Array(resolved.dropLast()), entry: resolved.joined(separator: "/"), create: false) else { continue }
            defer { Glibc.close(parent.fd) }
            guard let st = try LayerFiles.lstatAtIfExists(parent.fd, name, path: display(resolved)),
                  FileSystem.fileType(st) == S_IFDIR else { continue }
            let t = timespec(tv_sec: Int(mtime), tv_nsec: Int(nsec))
            if utimensat(parent.fd, name, [t, t], AT_SYMLINK_NOFOLLOW) != 0 {
                throw ArchiveError.io(operation: "set times", path: display(resolved), errno: errno)
            }
        }
    }
}
