import Foundation
import System

/// How symlinks met while resolving a path under a root are treated.
public enum SymlinkScope: Sendable, Hashable {
    /// The build context: a symlink whose target lies outside the root is an error, never followed.
    case confined
    /// A root filesystem (a stage, the destination): absolute targets and `..` are taken
    /// relative to the root and clamped at it, as if the process were chrooted there.
    case chroot
}

/// A path resolved under a root without ever leaving it.
public struct ScopedPath: Sendable, Hashable {
    /// Absolute host path (root + relative).
    public let hostPath: String
    /// `/`-separated path relative to the root ("" for the root itself).
    public let relative: String
    /// Whether the final path exists (a missing component ends the walk).
    public let exists: Bool

    /// Lexically cleans a user-written path the way BuildKit does (`path.Clean("/" + p)`),
    /// dropping `..` that would climb above the root. Returns the components.
    public static func cleanComponents(_ path: String) -> [String] {
        var out: [String] = []
        for c in path.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." { _ = out.popLast(); continue }
            out.append(String(c))
        }
        return out
    }

    /// Walks `path` under `root` component by component with `lstat`, following symlinks
    /// in parent directories (and in the last component when `followFinal`) within `scope`.
    /// `root` must already be a canonical absolute path.
    public static func resolve(root: String, path: String, scope: SymlinkScope, followFinal: Bool) throws -> ScopedPath {
        var queue = cleanComponents(path)[...]
        var resolved: [String] = []
        var links = 0
        var missing = false
        func host(_ comps: [String]) -> String {
            comps.isEmpty ? root : FileSystem.join(root, comps.joined(separator: "/"))
        }
        while let c = queue.first {
            queue = queue.dropFirst()
            if c == "." || c.isEmpty { continue }
            if c == ".." {
                if resolved.isEmpty {
                    if scope == .confined && !missing {
                        throw ContextError.escapesRoot(path: path, link: "", target: "..")
                    }
                    continue
                }
                resolved.removeLast()
                continue
            }
            let candidate = resolved + [c]
            if missing { resolved = candidate; continue }
            guard let st = try FileStat.lstat(host(candidate)) else {
                missing = true
                resolved = candidate
                continue
            }
            if st.kind == .symlink && (!queue.isEmpty || followFinal) {
                links += 1
                if links > 40 {
                    throw ContextError.symlinkLoop(path: path)
                }
                let target: String
                do { target = try FileSystem.readLink(host(candidate)) } catch { throw FileSystemError(error) }
                var targetComps: [String]
                if target.hasPrefix("/") {
                    switch scope {
                    case .chroot:
                        targetComps = target.split(separator: "/").map(String.init)
                    case .confined:
                        guard target == root || target.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
                            throw ContextError.escapesRoot(path: path, link: candidate.joined(separator: "/"), target: target)
                        }
                        targetComps = target.dropFirst(root.count).split(separator: "/").map(String.init)
                    }
                    resolved = []
                } else {
                    targetComps = target.split(separator: "/").map(String.init)
                    // Relative: from the link's directory, i.e. `resolved` as it is.
                    if scope == .confined {
                        // Climbing above the root through `..` is an escape.
                        var depth = resolved.count
                        for t in targetComps {
                            if t == ".." { depth -= 1 } else if t != "." { depth += 1 }
                            if depth < 0 {
                                throw ContextError.escapesRoot(path: path, link: candidate.joined(separator: "/"), target: target)
                            }
                        }
                    }
                }
                queue = (targetComps + Array(queue))[...]
                continue
            }
            resolved = candidate
        }
        return ScopedPath(hostPath: host(resolved), relative: resolved.joined(separator: "/"), exists: !missing)
    }

    /// `realpath(3)` of a directory that must exist.
    public static func canonicalDirectory(_ path: String) throws -> String {
        guard let r = realpath(path, nil) else {
            let reason = SystemError.describe(errno: errno, path: path)
            throw ContextError.notADirectory(path: path, reason: reason.prefix(1).lowercased() + reason.dropFirst())
        }
        defer { free(r) }
        let s = String(cString: r)
        guard let st = try FileStat.lstat(s), st.kind == .directory else {
            throw ContextError.notADirectory(path: path, reason: "not a directory")
        }
        return s
    }
}
