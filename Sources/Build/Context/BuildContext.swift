import Foundation
import OCI
import Synchronization
import System

/// A source tree COPY/ADD reads from: the build context (a directory on disk, filtered by
/// .dockerignore, symlinks confined to it) or another stage's root filesystem (`--from`,
/// symlinks resolved as if chrooted). Keeps a per-build memo of file digests; create one per
/// build and share it between steps.
public final class BuildContext: Sendable {
    /// Canonical absolute path of the root directory.
    public let root: String
    public let filter: any PathFilter
    public let scope: SymlinkScope
    /// Whether the tree is a build context (files land owned by root unless `--chown`) rather
    /// than a stage/image filesystem (ownership preserved).
    public let isContext: Bool
    let memo: ContentMemo
    /// Stage roots are opened once per step; their file digests are shared process-wide (safe:
    /// entries are keyed by path and checked against dev/inode/size/mtime/ctime).
    static let stageMemo = ContentMemo()
    /// ADD URLs fetched during this build (digest first, copy later): url + checksum → file.
    let downloads = Mutex<[String: DownloadedFile]>([:])
    /// ADD git sources cloned during this build.
    let gitCheckouts = Mutex<[String: GitCheckout]>([:])

    deinit {
        for file in downloads.withLock({ Array($0.values) }) { file.discard() }
        for co in gitCheckouts.withLock({ Array($0.values) }) { co.discard() }
    }

    /// The build context at `directory`, seen through `filter` (.dockerignore).
    public init(directory: String, filter: any PathFilter = IncludeEverything()) throws {
        self.root = try ScopedPath.canonicalDirectory(directory)
        self.filter = filter
        self.scope = .confined
        self.isContext = true
        self.memo = ContentMemo()
    }

    /// Another stage's (or image's) root filesystem, for `COPY --from`.
    public init(stageRootfs: String) throws {
        self.root = try ScopedPath.canonicalDirectory(stageRootfs)
        self.filter = IncludeEverything()
        self.scope = .chroot
        self.isContext = false
        self.memo = BuildContext.stageMemo
    }

    /// Loads file digests remembered by an earlier build (see `saveDigestMemo`), so unchanged
    /// files are not read again. A missing or unreadable file is ignored.
    public func loadDigestMemo(from file: String) {
        memo.load(file)
    }

    /// Saves the file digests computed so far (atomically) for the next build.
    public func saveDigestMemo(to file: String) throws {
        try memo.save(file)
    }

    // MARK: - Walking

    /// Visits every visible entry below `relative` (not the start itself), depth first in
    /// bytewise name order, calling `visit(relativePath, hostPath, stat)`. Directories that the
    /// filter rules out entirely are never opened. `visible` tells whether the entry itself is
    /// included (a directory may be excluded yet hold re-included children). For a directory,
    /// `visit` returns whether to descend into it.
    public func walk(under relative: String, hostPath: String,
                     _ visit: (_ relative: String, _ hostPath: String, _ stat: FileStat, _ visible: Bool) throws -> Bool) throws {
        let names: [String]
        do { names = try FileSystem.entries(hostPath) } catch { throw ContextError.io(FileSystemError(error)) }
        guard !names.isEmpty else { return }
        let fd = open(hostPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ContextError.io(FileSystemError(operation: "open", path: hostPath, errno: errno)) }
        defer { close(fd) }
        for name in names {
            let rel = relative.isEmpty ? name : relative + "/" + name
            let host = FileSystem.join(hostPath, name)
            let st: FileStat
            do { st = try FileStat.at(fd, name, path: host) } catch { throw ContextError.io(error) }
            let visible = filter.includes(rel)
            if st.kind == .directory {
                if !visible && !filter.mightIncludeUnder(rel) { continue }
                if try visit(rel, host, st, visible) {
                    try walk(under: rel, hostPath: host, visit)
                }
            } else if visible {
                _ = try visit(rel, host, st, true)
            }
        }
    }

    // MARK: - Resolving one named path

    /// Resolves a single (wildcard-free) source path. Symlinks in parent directories are
    /// followed; a symlink named as the source is followed too (BuildKit copies its target
    /// under the link's name). Returns nil when it does not exist or is excluded.
    public func lookup(_ path: String) throws -> ResolvedSource? {
        let comps = ScopedPath.cleanComponents(path)
        let rel = comps.joined(separator: "/")
        let sp = try ScopedPath.resolve(root: root, path: rel, scope: scope, followFinal: true)
        guard sp.exists, let st = try? FileStat.lstat(sp.hostPath) else { return nil }
        if !sp.relative.isEmpty && !filter.includes(sp.relative) {
            if st.kind != .directory || !filter.mightIncludeUnder(sp.relative) { return nil }
        }
        // The name as written must be visible too (a link named in .dockerignore is excluded).
        if !rel.isEmpty && rel != sp.relative && !filter.includes(rel) { return nil }
        return ResolvedSource(path: rel, resolved: sp.relative, hostPath: sp.hostPath, stat: st)
    }
}

/// One file or directory a COPY source named (after wildcard expansion).
public struct ResolvedSource: Sendable, Hashable {
    /// The path as matched, relative to the source root ("" for the root).
    public let path: String
    /// Where it leads after following symlinks, relative to the root.
    public let resolved: String
    /// Absolute host path of the resolved file or directory.
    public let hostPath: String
    /// Metadata of the resolved entry.
    public let stat: FileStat

    /// The name the copy gives it at the destination: the last component as written.
    public var baseName: String { path.split(separator: "/").last.map(String.init) ?? "" }
}
