import Foundation
import System

extension BuildContext {
    /// Expands one COPY source as BuildKit does: the components before the first wildcard are
    /// a literal base (symlinks followed within the scope); the rest are matched segment by
    /// segment with Go `filepath.Match` against the tree (without following symlinked
    /// directories), in bytewise order. A literal path yields one entry or nil (missing or
    /// excluded); a wildcard yields all matches, possibly none. With `doubleStar` (COPY
    /// --parents) a `**` segment matches any number of directories, including none.
    public func expand(_ pattern: String, doubleStar: Bool = false) throws -> [ResolvedSource]? {
        let comps = ScopedPath.cleanComponents(pattern)
        guard let firstWild = comps.firstIndex(where: { GlobPattern.hasWildcards($0) }) else {
            return try lookup(comps.joined(separator: "/")).map { [$0] }
        }
        let base = try ScopedPath.resolve(root: root, path: comps[..<firstWild].joined(separator: "/"),
                                          scope: scope, followFinal: true)
        guard base.exists, let bst = try FileStat.lstat(base.hostPath), bst.kind == .directory else {
            return nil
        }
        var globs: [GlobPattern?] = []  // nil = `**`
        for c in comps[firstWild...] {
            if doubleStar && c == "**" { globs.append(nil); continue }
            do { globs.append(try GlobPattern(c)) } catch { throw ContextError.badPattern(pattern) }
        }
        var matches: [ResolvedSource] = []
        var seen: Set<String> = []
        func descend(_ rel: String, _ host: String, _ depth: Int) throws {
            if depth == globs.count { return }
            let names: [String]
            do { names = try FileSystem.entries(host) } catch { throw ContextError.io(FileSystemError(error)) }
            guard let glob = globs[depth] else {
                if depth == globs.count - 1 {
                    // A trailing `**` takes everything here (directories are copied whole).
                    for name in names {
                        let childRel = rel.isEmpty ? name : rel + "/" + name
                        if !seen.contains(childRel), let r = try lookup(childRel) {
                            seen.insert(childRel)
                            matches.append(r)
                        }
                    }
                    return
                }
                // `**`: zero directories here, or one more level keeping the `**`.
                try descend(rel, host, depth + 1)
                for name in names {
                    let childRel = rel.isEmpty ? name : rel + "/" + name
                    let childHost = FileSystem.join(host, name)
                    guard let st = try FileStat.lstat(childHost), st.kind == .directory,
                          filter.mightIncludeUnder(childRel) else { continue }
                    try descend(childRel, childHost, depth)
                }
                return
            }
            for name in names where glob.matches(name) {
                let childRel = rel.isEmpty ? name : rel + "/" + name
                let childHost = FileSystem.join(host, name)
                guard let st = try FileStat.lstat(childHost) else { continue }
                if depth == globs.count - 1 {
                    if !seen.contains(childRel), let r = try lookup(childRel) {
                        seen.insert(childRel)
                        matches.append(r)
                    }
                } else if st.kind == .directory && filter.mightIncludeUnder(childRel) {
                    try descend(childRel, childHost, depth + 1)
                }
            }
        }
        try descend(base.relative, base.hostPath, 0)
        if doubleStar { matches.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) } }
        return matches
    }
}
