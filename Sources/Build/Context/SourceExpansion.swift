import Foundation

extension BuildContext {
    /// Expands one COPY source as BuildKit does: the components before the first wildcard are
    /// a literal base (symlinks followed within the scope); the rest are matched segment by
    /// segment with Go `filepath.Match` against the tree (without following symlinked
    /// directories), in bytewise order. A literal path yields one entry or nil (missing or
    /// excluded); a wildcard yields all matches, possibly none.
    public func expand(_ pattern: String) throws -> [ResolvedSource]? {
        let comps = ScopedPath.cleanComponents(pattern)
        guard let firstWild = comps.firstIndex(where: { GlobPattern.hasWildcards($0) }) else {
            return try lookup(comps.joined(separator: "/")).map { [$0] }
        }
        let base = try ScopedPath.resolve(root: root, path: comps[..<firstWild].joined(separator: "/"),
                                          scope: scope, followFinal: true)
        guard base.exists, let bst = try FileStat.lstat(base.hostPath), bst.kind == .directory else {
            return nil
        }
        var globs: [GlobPattern] = []
        for c in comps[firstWild...] {
            do { globs.append(try GlobPattern(c)) } catch { throw ContextError.badPattern(pattern) }
        }
        var matches: [ResolvedSource] = []
        func descend(_ rel: String, _ host: String, _ depth: Int) throws {
            let names: [String]
            do { names = try POSIX.listDirectory(host) } catch { throw ContextError.io(error) }
            for name in names where globs[depth].matches(name) {
                let childRel = rel.isEmpty ? name : rel + "/" + name
                let childHost = POSIX.join(host, name)
                guard let st = try FileStat.lstat(childHost) else { continue }
                if depth == globs.count - 1 {
                    if let r = try lookup(childRel) { matches.append(r) }
                } else if st.kind == .directory && filter.mightIncludeUnder(childRel) {
                    try descend(childRel, childHost, depth + 1)
                }
            }
        }
        try descend(base.relative, base.hostPath, 0)
        return matches
    }
}
