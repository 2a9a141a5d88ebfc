import Foundation

/// An ordered list of .dockerignore-style patterns: Go `filepath.Match` per segment, `**` for
/// any number of segments, `!` to re-include, last match wins, and a pattern that matches a
/// directory also matches everything below it. Used for `COPY --exclude` (matched against
/// paths relative to each copied source, as BuildKit does). Builds read `.dockerignore` files
/// through the Dockerfile module's `IgnoreMatcher` (`BuildContext.forBuild`), not this type.
public struct PathPatternSet: Sendable, PathFilter {
    struct Rule: Sendable {
        let segments: [Segment]
        let negated: Bool
    }
    enum Segment: Sendable {
        case anyDepth
        case glob(GlobPattern)
    }

    let rules: [Rule]
    /// The patterns as given (for cache keys and messages).
    public let patterns: [String]
    public var isEmpty: Bool { rules.isEmpty }
    public var hasNegations: Bool { rules.contains { $0.negated } }

    public init(_ patterns: [String]) throws {
        var rules: [Rule] = []
        for raw in patterns {
            var p = raw.trimmingCharacters(in: .whitespaces)
            var negated = false
            if p.hasPrefix("!") { negated = true; p.removeFirst() }
            let comps = ScopedPath.cleanComponents(p)
            if comps.isEmpty { continue }
            var segs: [Segment] = []
            for c in comps {
                if c == "**" { segs.append(.anyDepth); continue }
                do { segs.append(.glob(try GlobPattern(c))) } catch { throw ContextError.badPattern(raw) }
            }
            rules.append(Rule(segments: segs, negated: negated))
        }
        self.rules = rules
        self.patterns = patterns
    }

    /// Whether `path` (relative, `/`-separated) is matched (excluded) by the set.
    public func matches(_ path: String) -> Bool {
        let comps = path.split(separator: "/").map(String.init)
        var matched = false
        for rule in rules where matched == rule.negated {
            if Self.matchesSelfOrParent(rule.segments, comps) { matched = !rule.negated }
        }
        return matched
    }

    // PathFilter: the set lists what is *excluded* (.dockerignore).
    public func includes(_ path: String) -> Bool { !matches(path) }
    public func mightIncludeUnder(_ dir: String) -> Bool { hasNegations || !matches(dir) }

    static func matchesSelfOrParent(_ segs: [Segment], _ comps: [String]) -> Bool {
        if comps.isEmpty { return false }
        for k in 1...comps.count where match(segs[...], comps[0..<k]) { return true }
        return false
    }

    static func match(_ p: ArraySlice<Segment>, _ s: ArraySlice<String>) -> Bool {
        guard let first = p.first else { return s.isEmpty }
        switch first {
        case .anyDepth:
            if match(p.dropFirst(), s) { return true }
            return !s.isEmpty && match(p, s.dropFirst())
        case .glob(let g):
            guard let name = s.first, g.matches(name) else { return false }
            return match(p.dropFirst(), s.dropFirst())
        }
    }
}
