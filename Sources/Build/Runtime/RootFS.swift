#if canImport(Glibc)
import System
import Glibc
#endif
import CLinux

/// Paths inside a container root filesystem, resolved the way the container would see them:
/// symlinks are followed relative to the root, and `..` never climbs above it (like
/// github.com/cyphar/filepath-securejoin, which runc and BuildKit use).
enum RootFS {
    /// The host path of `path` inside `root`, with every existing symlink resolved within `root`.
    static func resolve(root: String, _ path: String) -> String {
        var resolved: [Substring] = []
        var pending = path.split(separator: "/", omittingEmptySubsequences: true)[...]
        var hops = 0
        while let component = pending.first {
            pending = pending.dropFirst()
            if component == "." { continue }
            if component == ".." {
                _ = resolved.popLast()
                continue
            }
            let candidate = root + "/" + (resolved + [component]).joined(separator: "/")
            var st = stat()
            if lstat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK, hops < 255 {
                hops += 1
                if let target = try? FileSystem.readLink(candidate), !target.isEmpty {
                    if target.hasPrefix("/") { resolved = [] }
                    pending = target.split(separator: "/", omittingEmptySubsequences: true)[...] + pending
                    continue
                }
            }
            resolved.append(component)
        }
        return resolved.isEmpty ? root : root + "/" + resolved.joined(separator: "/")
    }

    /// `mkdir -p path` inside `root`, new directories owned by uid:gid with mode 0755. Returns
    /// whether anything was created. Fails if a component exists and is not a directory.
    @discardableResult
    static func makeDirectories(root: String, _ path: String, uid: UInt32 = 0, gid: UInt32 = 0, depth: Int = 0) throws -> Bool {
        var prefix = ""
        var created = false
        for component in path.split(separator: "/") {
            prefix += "/" + component
            let host = resolve(root: root, prefix)
            var st = stat()
            if lstat(host, &st) == 0 {
                if (st.st_mode & S_IFMT) != S_IFDIR {
                    throw RuntimeError.invalidPath(path: prefix, reason: "exists in the image and is not a directory")
                }
                continue
            }
            if mkdir(host, 0o755) != 0 {
                let e = errno
                let inside = String(host.dropFirst(root.count))
                if e == ENOENT, depth < 40, inside != prefix {
                    // A symlink led to a path whose parents do not exist yet (a dangling link):
                    // make that resolved path, itself resolved inside the root, as BuildKit does.
                    try makeDirectories(root: root, inside, uid: uid, gid: gid, depth: depth + 1)
                    created = true
                    continue
                }
                guard e == EEXIST else { throw RuntimeError.system(operation: "mkdir", path: host, errno: e) }
            }
            _ = chmod(host, 0o755)
            _ = lchown(host, uid, gid)
            created = true
        }
        return created
    }

    /// Finds the program the container's init would exec for `command` (argv[0]), as runc does
    /// with Go's exec.LookPath: a name with a `/` is taken as is (relative to `cwd`), any other
    /// is searched in `searchPath` (the container's PATH, `:`-separated). Returns the path inside
    /// the root, or the `ExecFailure` runc would report: a name found in no PATH directory as a
    /// regular file with an execute bit is "not found in $PATH"; a path that is missing, a
    /// directory or not executable fails as it is.
    static func findExecutable(root: String, _ command: String, searchPath: String, cwd: String) -> Result<String, ExecFailure> {
        func check(_ path: String) -> ExecFailure? {
            var st = stat()
            guard stat(resolve(root: root, path), &st) == 0 else {
                return errno == ENOENT || errno == ENOTDIR ? .noSuchFile(path) : .permissionDenied
            }
            return (st.st_mode & S_IFMT) != S_IFDIR && (st.st_mode & 0o111) != 0 ? nil : .permissionDenied
        }
        if command.contains("/") {
            let path = command.hasPrefix("/") ? command : (cwd.hasSuffix("/") ? cwd : cwd + "/") + command
            return check(path).map { .failure($0) } ?? .success(path)
        }
        for dir in searchPath.split(separator: ":", omittingEmptySubsequences: false) {
            // An empty PATH entry means the working directory (Go's rule).
            let path = (dir.isEmpty ? cwd : String(dir)) + "/" + command
            if path.hasPrefix("/"), check(path) == nil { return .success(path) }
        }
        return .failure(.notFoundInPath)
    }

    /// Why a container's command cannot be executed (`findExecutable`).
    enum ExecFailure: Error, Equatable {
        case notFoundInPath
        /// The path given (or a directory on the way) does not exist.
        case noSuchFile(String)
        /// A directory, or a file without an execute bit.
        case permissionDenied
    }

    /// Reads a small text file inside `root` (e.g. /etc/passwd), or nil if it is absent.
    static func readFile(root: String, _ path: String) -> String? {
        let host = resolve(root: root, path)
        var st = stat()
        guard lstat(host, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileIO.readText(host)
    }
}

/// Lookups in a stack of overlay lower directories (topmost first) without mounting them:
/// overlay whiteouts (char 0:0) hide a path, an opaque directory hides everything below it in
/// lower layers. Used to decide which mount points the runtime would have to create.
enum LowerStack {
    enum Kind: Equatable { case directory, file, other }

    /// The type `path` (absolute, no symlinks expected) has in the merged view, or nil if absent.
    static func lookup(_ lowers: [String], _ path: String) -> Kind? {
        let components = path.split(separator: "/").map(String.init)
        guard !components.isEmpty else { return .directory }
        for lower in lowers {
            var current = lower
            var opaqueAbove = false
            var found: Kind?
            for (index, component) in components.enumerated() {
                current += "/" + component
                var st = stat()
                guard lstat(current, &st) == 0 else {
                    // Absent here: an opaque ancestor in this layer hides every lower layer.
                    if opaqueAbove { return nil }
                    break
                }
                let type = st.st_mode & S_IFMT
                if type == S_IFCHR && st.st_rdev == 0 { return nil }   // whiteout
                if index == components.count - 1 {
                    found = type == S_IFDIR ? .directory : (type == S_IFREG ? .file : .other)
                } else if type != S_IFDIR {
                    found = .other   // a file or symlink on the way: not a plain path, leave it be
                    break
                } else if isOpaque(current) {
                    opaqueAbove = true
                }
            }
            if let found { return found }
        }
        return nil
    }

    static func isOpaque(_ dir: String) -> Bool {
        var value: [CChar] = [0, 0]
        for name in ["trusted.overlay.opaque", "user.overlay.opaque"] {
            let n = lgetxattr(dir, name, &value, 1)
            if n == 1 && value[0] == CChar(UInt8(ascii: "y")) { return true }
        }
        return false
    }
}
