/// Go's `filepath.Match` for one path segment: `*`, `?`, `[...]` classes (with `^` negation and
/// ranges) and `\` escapes. BuildKit resolves COPY wildcards with exactly these rules, so
/// `arr[[]0].txt` names `arr[0].txt` here as it does there.
public struct GlobPattern: Sendable, Hashable {
    public let pattern: String
    private let scalars: [Unicode.Scalar]

    public enum PatternError: Error, CustomStringConvertible, Equatable {
        case malformed(String)
        public var description: String { "malformed wildcard pattern '\(pattern)'" }
        var pattern: String { if case .malformed(let p) = self { return p }; return "" }
    }

    public init(_ pattern: String) throws {
        self.pattern = pattern
        self.scalars = Array(pattern.unicodeScalars)
        // Validate once so that matching never has to report errors.
        _ = try Self.match(scalars, [])
    }

    /// Whether the segment `name` matches. `/` never matches a wildcard.
    public func matches(_ name: String) -> Bool {
        (try? Self.match(scalars, Array(name.unicodeScalars))) ?? false
    }

    /// True when `s` contains an unescaped `*`, `?` or `[`.
    public static func hasWildcards(_ s: String) -> Bool {
        var escaped = false
        for c in s.unicodeScalars {
            if escaped { escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == "*" || c == "?" || c == "[" { return true }
        }
        return false
    }

    /// Removes `\` escapes from a segment without wildcards, giving the literal file name.
    public static func unescape(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        var escaped = false
        for c in s.unicodeScalars {
            if !escaped && c == "\\" { escaped = true; continue }
            escaped = false
            out.append(c)
        }
        return String(out)
    }

    // MARK: - Go's algorithm (path/filepath.Match), on Unicode scalars.

    private static func match(_ pattern: [Unicode.Scalar], _ name: [Unicode.Scalar]) throws -> Bool {
        var p = pattern[...]
        var n = name[...]
        pat: while !p.isEmpty {
            let (star, chunk, rest) = scanChunk(p)
            p = rest
            if star && chunk.isEmpty {
                // A trailing `*` matches the rest unless it holds a separator.
                return !n.contains("/")
            }
            // At the current position; the last chunk must consume the whole name.
            if let t = try matchChunk(chunk, n), t.isEmpty || !p.isEmpty {
                n = t
                continue pat
            }
            if star {
                // Skip one more character each time; `*` never spans a separator.
                var i = n.startIndex
                while i < n.endIndex && n[i] != "/" {
                    if let t = try matchChunk(chunk, n[n.index(after: i)...]) {
                        if p.isEmpty && !t.isEmpty { i = n.index(after: i); continue }
                        n = t
                        continue pat
                    }
                    i = n.index(after: i)
                }
            }
            // No match: still report a syntax error in the rest of the pattern, as Go does.
            while !p.isEmpty {
                let (_, c, r) = scanChunk(p)
                p = r
                _ = try matchChunk(c, [][...])
            }
            return false
        }
        return n.isEmpty
    }

    private static func scanChunk(_ pattern: ArraySlice<Unicode.Scalar>) -> (star: Bool, chunk: ArraySlice<Unicode.Scalar>, rest: ArraySlice<Unicode.Scalar>) {
        var p = pattern
        var star = false
        while let f = p.first, f == "*" { p = p.dropFirst(); star = true }
        var inRange = false
        var i = p.startIndex
        scan: while i < p.endIndex {
            switch p[i] {
            case "\\":
                if p.index(after: i) < p.endIndex { i = p.index(after: i) }
            case "[": inRange = true
            case "]": inRange = false
            case "*": if !inRange { break scan }
            default: break
            }
            i = p.index(after: i)
        }
        return (star, p[p.startIndex..<i], p[i...])
    }

    /// Matches `chunk` at the start of `s`; returns the rest of `s`, or nil. Throws on bad syntax
    /// (Go reports ErrBadPattern even when the name ran out first, so keep scanning).
    private static func matchChunk(_ chunkIn: ArraySlice<Unicode.Scalar>, _ sIn: ArraySlice<Unicode.Scalar>) throws -> ArraySlice<Unicode.Scalar>? {
        var chunk = chunkIn
        var s = sIn
        var failed = false
        let bad = PatternError.malformed(String(String.UnicodeScalarView(chunkIn)))
        while let c = chunk.first {
            if !failed && s.isEmpty { failed = true }
            switch c {
            case "[":
                var r: Unicode.Scalar = " "
                if !failed { r = s.first!; s = s.dropFirst() }
                chunk = chunk.dropFirst()
                var negated = false
                if chunk.first == "^" { negated = true; chunk = chunk.dropFirst() }
                var matched = false
                var nrange = 0
                while true {
                    if let f = chunk.first, f == "]", nrange > 0 { chunk = chunk.dropFirst(); break }
                    let (lo, afterLo) = try getEsc(chunk, bad)
                    chunk = afterLo
                    var hi = lo
                    if chunk.first == "-" {
                        let (h, afterHi) = try getEsc(chunk.dropFirst(), bad)
                        hi = h
                        chunk = afterHi
                    }
                    if lo.value <= r.value && r.value <= hi.value { matched = true }
                    nrange += 1
                }
                if matched == negated { failed = true }
            case "?":
                if !failed {
                    if s.first == "/" { failed = true }
                    s = s.dropFirst()
                }
                chunk = chunk.dropFirst()
            case "\\":
                chunk = chunk.dropFirst()
                guard let e = chunk.first else { throw bad }
                if !failed {
                    if e != s.first { failed = true }
                    s = s.dropFirst()
                }
                chunk = chunk.dropFirst()
            default:
                if !failed {
                    if c != s.first { failed = true }
                    s = s.dropFirst()
                }
                chunk = chunk.dropFirst()
            }
        }
        return failed ? nil : s
    }

    private static func getEsc(_ chunkIn: ArraySlice<Unicode.Scalar>, _ bad: PatternError) throws -> (Unicode.Scalar, ArraySlice<Unicode.Scalar>) {
        var chunk = chunkIn
        guard let first = chunk.first, first != "-", first != "]" else { throw bad }
        var r = first
        if r == "\\" {
            chunk = chunk.dropFirst()
            guard let e = chunk.first else { throw bad }
            r = e
        }
        chunk = chunk.dropFirst()
        if chunk.isEmpty { throw bad }
        return (r, chunk)
    }
}
