#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Foundation
import System

/// A writable overlayfs view of a stack of read-only layer directories, for one RUN step.
///
/// Layout of `directory`: `upper/` (the step's changes: what becomes the layer), `work/`
/// (overlay's scratch), `merged/` (the mount point, the container's root), `empty/` (the lower
/// used when there are no layers, e.g. `FROM scratch`), `l/` (short symlinks to the lowers when
/// their paths do not fit in overlay's one-page mount data).
///
/// Mount options follow BuildKit and the runtime notes: `index=off,redirect_dir=off,metacopy=off,
/// xino=off`, so that a renamed directory is a full copy and a chmod a full copy-up — the upper
/// dir then describes the change completely, which a layer needs.
///
/// Every snapshot directory and mount is in `CleanupRegistry.shared`, so it is removed on exit,
/// error or signal even if the owner never calls `remove()`.
public final class OverlaySnapshot: Sendable {
    public let directory: String
    public let upperDir: String
    public let workDir: String
    public let mergedDir: String
    /// The layer directories, topmost first, as given.
    public let lowerDirs: [String]

    private struct State {
        var mountToken: CleanupRegistry.Token?
        var directoryToken: CleanupRegistry.Token?
    }
    private let state: Mutex<State>

    /// Kernel limit on the overlay mount data (one page) minus room for the other options.
    static let maxMountData = 4096 - 1

    /// Creates the snapshot directories under `base` (created if missing). Does not mount.
    public init(lowerDirs: [String], in base: String) throws {
        let (dirToken, made) = try CleanupRegistry.shared.makeDirectory(in: base, prefix: "snap-")
        self.directory = made
        self.upperDir = made + "/upper"
        self.workDir = made + "/work"
        self.mergedDir = made + "/merged"
        self.lowerDirs = lowerDirs
        self.state = Mutex(State(mountToken: nil, directoryToken: dirToken))
        do {
            for dir in [upperDir, workDir, mergedDir] { try FileSystem.makeDirectory(dir) }
        } catch {
            remove()
            throw error
        }
    }

    /// A private directory `base/prefix<random>` registered for cleanup (removed on exit or
    /// signal if the caller does not remove it first with `removeScratchDirectory`).
    public static func makeScratchDirectory(in base: String, prefix: String) throws -> String {
        try CleanupRegistry.shared.makeDirectory(in: base, prefix: prefix).1
    }

    /// Removes a directory made by `makeScratchDirectory` (and forgets it).
    public static func removeScratchDirectory(_ path: String) {
        CleanupRegistry.shared.cleanUp(path: path)
    }

    public var isMounted: Bool { state.withLock { $0.mountToken != nil } }

    /// Mounts the overlay at `mergedDir`. `extraTopLowers` go above `lowerDirs` (the run
    /// executor's mount-point stubs).
    public func mount(extraTopLowers: [String] = []) throws {
        try state.withLock { state in
            guard state.mountToken == nil else { return }
            var lowers = extraTopLowers + lowerDirs
            if lowers.isEmpty {
                let empty = directory + "/empty"
                try FileSystem.makeDirectory(empty)
                lowers = [empty]
            }
            let merged = mergedDir
            let data = Self.options(lowers: lowers, upper: upperDir, work: workDir)
            if data.utf8.count <= Self.maxMountData {
                let (token, _) = try CleanupRegistry.shared.register(.mount(merged)) {
                    guard Glibc.mount("overlay", merged, "overlay", 0, data) == 0 else {
                        throw RuntimeError.system(operation: "mount overlay (\(lowers.count) lower layers) on", path: merged, errno: errno)
                    }
                }
                state.mountToken = token
                return
            }
            // Too long for one page: mount with paths relative to a directory of short symlinks
            // (`l/0`, `l/1`, ...), as containerd does. The kernel resolves relative lowerdirs from
            // the mounting process's cwd, and chdir is process-wide, so a helper mounts from there.
            let links = try shortLinks(lowers)
            let relative = Self.options(lowers: links, upper: "../upper", work: "../work")
            guard relative.utf8.count <= Self.maxMountData else { throw RuntimeError.tooManyLayers(count: lowers.count) }
            guard let mountTool = ChildProcess.which("mount") else { throw RuntimeError.runtimeNotFound("mount") }
            let script = "cd \"$1\" && exec \"$2\" -t overlay overlay -o \"$3\" \"$4\""
            let linkDir = directory + "/l"
            let (token, _) = try CleanupRegistry.shared.register(.mount(merged)) {
                let result = try ChildProcess.runCapturing(["/bin/sh", "-c", script, "sh", linkDir, mountTool, relative, merged])
                guard result.code == 0 else {
                    throw RuntimeError.system(operation: "mount overlay (\(lowers.count) lower layers): \(result.output.trimmingCharacters(in: .whitespacesAndNewlines)); on",
                                              path: merged, errno: EINVAL)
                }
            }
            state.mountToken = token
        }
    }

    static func options(lowers: [String], upper: String, work: String) -> String {
        // ':' and ',' and '\' in a path must be escaped for overlay's option parser.
        func escape(_ p: String) -> String {
            var out = ""
            for c in p {
                if c == ":" || c == "," || c == "\\" { out.append("\\") }
                out.append(c)
            }
            return out
        }
        return "lowerdir=" + lowers.map(escape).joined(separator: ":") + ",upperdir=" + escape(upper)
            + ",workdir=" + escape(work) + ",index=off,redirect_dir=off,metacopy=off,xino=off"
    }

    /// Symlinks `directory/l/<n>` → each lower; returns the names `<n>`. The kernel follows them
    /// at mount time and keeps no reference to the names afterwards.
    private func shortLinks(_ lowers: [String]) throws -> [String] {
        let links = directory + "/l"
        try FileSystem.makeDirectory(links)
        return try lowers.enumerated().map { index, lower in
            let name = String(index, radix: 36)
            let link = links + "/" + name
            unlink(link)
            guard symlink(lower, link) == 0 else { throw RuntimeError.system(operation: "symlink", path: link, errno: errno) }
            return name
        }
    }

    /// Unmounts the overlay. The upper dir stays for the caller to turn into a layer.
    public func unmount() throws {
        try state.withLock { state in
            guard let token = state.mountToken else { return }
            if umount2(mergedDir, 0) != 0 {
                let err = errno
                guard err == EBUSY, umount2(mergedDir, Int32(MNT_DETACH)) == 0 else {
                    if err == EINVAL || err == ENOENT { CleanupRegistry.shared.release(token); state.mountToken = nil; return }
                    throw RuntimeError.system(operation: "unmount", path: mergedDir, errno: err)
                }
            }
            CleanupRegistry.shared.release(token)
            state.mountToken = nil
        }
    }

    /// True if the step changed anything: the upper dir has at least one entry. (The runtime's
    /// mount points are kept out of it by the executor's stub layer, so an empty upper really
    /// means "no changes" and the step needs no layer.)
    public func hasChanges() -> Bool {
        !((try? FileSystem.entries(upperDir)) ?? []).isEmpty
    }

    /// Unmounts if needed and deletes the snapshot directory. Never throws; safe to call twice.
    public func remove() {
        let tokens = state.withLock { state -> [CleanupRegistry.Token] in
            defer { state.mountToken = nil; state.directoryToken = nil }
            return [state.mountToken, state.directoryToken].compactMap { $0 }
        }
        for token in tokens { CleanupRegistry.shared.cleanUp(token) }
    }
}
