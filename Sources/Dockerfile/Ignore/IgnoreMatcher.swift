/// `.dockerignore` rules with moby/patternmatcher semantics: `*`, `?`, `**`, character
/// classes, `!` exceptions applied in order, leading `/` dropped, `#` comments.
///
/// Paths are relative to the build context root, `/`-separated (`src/main.go`).
public struct IgnoreMatcher: Sendable {
    public struct Pattern: Sendable, Equatable {
        /// The cleaned pattern without `!`.
        public var text: String
        /// An `!` exception: re-includes what earlier patterns excluded.
        public var isException: Bool
        var kind: Kind
        var tokens: [Token]

        enum Kind: Sendable, Equatable { case exact, prefix, suffix, regexp }
    }

    enum Token: Sendable, Equatable {
        case literal(Unicode.Scalar)
        case star           // [^/]*
        case question       // [^/]
        case anyDirs        // (.*/)?
        case anyTail        // .*
        case charClass(negated: Bool, items: [ClosedRange<UInt32>])
        /// A Go regexp escape that survives into the pattern: `\d \s \w` (and negations)
        case perlClass(Unicode.Scalar)
        /// `\b` (or `\B` when negated): an ASCII word boundary.
        case wordBoundary(negated: Bool)
        /// A bare `^`, which patternmatcher leaves unescaped: in a Go regexp it anchors at the start.
        case textStart
    }

    public let patterns: [Pattern]
    /// True when some pattern is an `!` exception.
    public let hasExceptions: Bool

    /// The patterns of a `.dockerignore` file (BuildKit's `ignorefile.ReadAll`).
    public static func patterns(fromIgnoreFile text: String) -> [String] {
        var out: [String] = []
        var first = true
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = Substring(rawLine)
            if first, line.hasPrefix("\u{FEFF}") { line = line.dropFirst() }
            first = false
            if line.hasPrefix("#") { continue }
            var p = LineParsers.trimSpace(String(line))
            if p.isEmpty { continue }
            let invert = p.hasPrefix("!")
            if invert { p = LineParsers.trimSpace(String(p.dropFirst())) }
            if !p.isEmpty {
                p = cleanPath(p)
                if p.count > 1, p.hasPrefix("/") { p.removeFirst() }
            }
            out.append(invert ? "!" + p : p)
        }
        return out
    }

    /// Chooses the ignore file BuildKit uses: `<Dockerfile name>.dockerignore` beside the
    /// Dockerfile wins over the context's `.dockerignore`. Pass the texts of the files that exist.
    public static func forBuild(dockerfileSpecific: String?, contextIgnore: String?) throws(DockerfileError) -> IgnoreMatcher {
        try IgnoreMatcher(ignoreFile: dockerfileSpecific ?? contextIgnore ?? "")
    }

    public init(ignoreFile text: String) throws(DockerfileError) {
        try self.init(patterns: IgnoreMatcher.patterns(fromIgnoreFile: text))
    }

    public init(patterns raw: [String]) throws(DockerfileError) {
        var out: [Pattern] = []
        var exceptions = false
        for r in raw {
            var p = LineParsers.trimSpace(r)
            if p.isEmpty { continue }
            p = IgnoreMatcher.cleanPath(p)
            var isException = false
            if p.hasPrefix("!") {
                guard p.count > 1 else { throw DockerfileError(.ignorePattern, message: "illegal exclusion pattern: \"!\"") }
                isException = true
                exceptions = true
                p.removeFirst()
            }
            let (kind, tokens) = try IgnoreMatcher.compile(p)
            out.append(Pattern(text: p, isException: isException,
                               kind: kind, tokens: tokens))
        }
        patterns = out
        hasExceptions = exceptions
    }

    /// Whether `path` is sent to the build (not excluded by the rules). Evaluated the way
    /// BuildKit's context walker does: directory by directory, each level inheriting which
    /// patterns its parent matched (patternmatcher's `MatchesUsingParentResults`).
    public func includes(_ path: String) -> Bool {
        let file = IgnoreMatcher.normalize(path)
        if file == "." || file.isEmpty { return true }
        return !excludedWalking(file)
    }

    /// Whether anything under `directory` could be included — false means the whole
    /// directory can be skipped. Mirrors BuildKit's context walker (fsutil): an excluded
    /// directory is entered only when an `!` exception could match inside it (an exception
    /// with wildcards could match anywhere, so then every directory is entered).
    public func mightIncludeUnder(_ directory: String) -> Bool {
        let dir = IgnoreMatcher.normalize(directory)
        if dir == "." || dir.isEmpty { return true }
        if !excludedWalking(dir) { return true }
        guard hasExceptions else { return false }
        let wildcard: Set<Unicode.Scalar> = ["*", "[", "]", "?", "^", "\\"]
        let exceptions = patterns.filter(\.isException).map { IgnoreMatcher.withoutTrailingGlob($0.text) }
        if exceptions.contains(where: { $0.unicodeScalars.contains(where: wildcard.contains) }) { return true }
        let dirSlash = dir + "/"
        return exceptions.contains { ($0 + "/").hasPrefix(dirSlash) }
    }

    static func withoutTrailingGlob(_ p: String) -> String {
        var s = p
        if s.hasSuffix("/**") { s.removeLast(3) }
        if s.hasSuffix("/*") { s.removeLast(2) }
        return s
    }

    /// Excluded, evaluated level by level from the context root.
    func excludedWalking(_ file: String) -> Bool {
        let comps = file.split(separator: "/", omittingEmptySubsequences: true)
        var parent: [Bool]? = nil
        var matched = false
        var prefix = ""
        for c in comps {
            prefix = prefix.isEmpty ? String(c) : prefix + "/" + c
            (matched, parent) = matchesUsingParentResults(prefix, parent)
        }
        return matched
    }

    /// patternmatcher's `MatchesUsingParentResults`.
    func matchesUsingParentResults(_ file: String, _ parentMatched: [Bool]?) -> (Bool, [Bool]) {
        var matched = false
        var info = [Bool](repeating: false, count: patterns.count)
        for (i, pattern) in patterns.enumerated() {
            var match = parentMatched?[i] ?? false
            if !match {
                if pattern.isException != matched { continue }
                match = IgnoreMatcher.match(pattern, file)
                if !match && parentMatched == nil {
                    let parent = IgnoreMatcher.dirName(file)
                    if parent != "." {
                        var acc = ""
                        for d in parent.split(separator: "/") {
                            acc = acc.isEmpty ? String(d) : acc + "/" + d
                            if IgnoreMatcher.match(pattern, acc) { match = true; break }
                        }
                    }
                }
            }
            info[i] = match
            if match { matched = !pattern.isException }
        }
        return (matched, info)
    }

    static func normalize(_ path: String) -> String {
        var p = cleanPath(path)
        while p.hasPrefix("/") { p.removeFirst() }
        return p.isEmpty ? "." : p
    }

    static func dirName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : cleanPath(d)
    }

    /// Go's `filepath.Clean` for `/`-separated paths.
    static func cleanPath(_ path: String) -> String {
        if path.isEmpty { return "." }
        let rooted = path.hasPrefix("/")
        var parts: [Substring] = []
        for comp in path.split(separator: "/", omittingEmptySubsequences: true) {
            if comp == "." { continue }
            if comp == ".." {
                if let last = parts.last, last != ".." {
                    parts.removeLast()
                } else if !rooted {
                    parts.append(comp)
                }
                continue
            }
            parts.append(comp)
        }
        let joined = parts.joined(separator: "/")
        if rooted { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    static func match(_ p: Pattern, _ path: String) -> Bool {
        switch p.kind {
        case .exact:
            return path == p.text
        case .prefix:
            return path.hasPrefix(String(p.text.dropLast(2)))
        case .suffix:
            let suffix = String(p.text.dropFirst(2))
            if path.hasSuffix(suffix) { return true }
            return suffix.hasPrefix("/") && path == String(suffix.dropFirst())
        case .regexp:
            return fullMatch(p.tokens, Array(path.unicodeScalars))
        }
    }

    /// Compiles like patternmatcher's `compile`, into tokens instead of a Go regexp.
    static func compile(_ pattern: String) throws(DockerfileError) -> (Pattern.Kind, [Token]) {
        let s = Array(pattern.unicodeScalars)
        try validate(s, pattern)
        var kind = Pattern.Kind.exact
        var tokens: [Token] = []
        var i = 0
        var n = 0
        while i < s.count {
            let ch = s[i]
            i += 1
            defer { n += 1 }
            if ch == "*" {
                if i < s.count, s[i] == "*" {
                    i += 1
                    if i < s.count, s[i] == "/" { i += 1 }
                    if i >= s.count {
                        if kind == .exact {
                            kind = .prefix
                        } else {
                            tokens.append(.anyTail)
                            kind = .regexp
                        }
                    } else {
                        tokens.append(.anyDirs)
                        kind = .regexp
                    }
                    if n == 0 { kind = .suffix }
                } else {
                    tokens.append(.star)
                    kind = .regexp
                }
            } else if ch == "?" {
                tokens.append(.question)
                kind = .regexp
            } else if ch == "\\" {
                if i < s.count {
                    // patternmatcher copies `\x` into a Go regexp, where letters have meanings.
                    let e = s[i]
                    i += 1
                    kind = .regexp
                    switch e {
                    case "d", "D", "s", "S", "w", "W": tokens.append(.perlClass(e))
                    case "b", "B": tokens.append(.wordBoundary(negated: e == "B"))
                    case "a": tokens.append(.literal("\u{07}"))
                    case "f": tokens.append(.literal("\u{0C}"))
                    case "t": tokens.append(.literal("\t"))
                    case "n": tokens.append(.literal("\n"))
                    case "r": tokens.append(.literal("\r"))
                    case "v": tokens.append(.literal("\u{0B}"))
                    default:
                        let alnum = (e >= "a" && e <= "z") || (e >= "A" && e <= "Z") || (e >= "0" && e <= "9")
                        guard e.isASCII, !alnum else {
                            throw DockerfileError(.ignorePattern, message: "invalid .dockerignore pattern \"\(pattern)\": invalid escape sequence \\\(Character(e))")
                        }
                        tokens.append(.literal(e))
                    }
                } else {
                    tokens.append(.literal("\\"))
                }
            } else if ch == "[" {
                // A character class: read to the closing bracket.
                var negated = false
                if i < s.count, s[i] == "^" { negated = true; i += 1 }
                var items: [ClosedRange<UInt32>] = []
                while i < s.count, s[i] != "]" || items.isEmpty {
                    var lo = s[i]
                    i += 1
                    if lo == "\\", i < s.count { lo = s[i]; i += 1 }
                    var hi = lo
                    if i + 1 < s.count, s[i] == "-", s[i + 1] != "]" {
                        hi = s[i + 1]
                        i += 2
                        if hi == "\\", i < s.count { hi = s[i]; i += 1 }
                    }
                    guard lo.value <= hi.value else {
                        throw DockerfileError(.ignorePattern, message: "invalid .dockerignore pattern \"\(pattern)\": invalid character class range")
                    }
                    items.append(lo.value...hi.value)
                }
                i += 1  // the ']' (validated to exist)
                tokens.append(.charClass(negated: negated, items: items))
                kind = .regexp
            } else if ch == "^" {
                tokens.append(.textStart)
            } else {
                tokens.append(.literal(ch))
            }
        }
        return (kind, tokens)
    }

    static func isWordChar(_ c: Unicode.Scalar) -> Bool {
        (c >= "0" && c <= "9") || (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_"
    }

    /// `filepath.Match(pattern, ".")` validation: balanced classes, no trailing escape.
    static func validate(_ s: [Unicode.Scalar], _ pattern: String) throws(DockerfileError) {
        var i = 0
        func bad() -> DockerfileError {
            DockerfileError(.ignorePattern, message: "invalid .dockerignore pattern \"\(pattern)\": syntax error in pattern")
        }
        while i < s.count {
            let c = s[i]
            i += 1
            if c == "\\" {
                guard i < s.count else { throw bad() }
                i += 1
            } else if c == "[" {
                // Go's filepath.Match: ranges of getEsc characters; `-` and `]` must be escaped.
                if i < s.count, s[i] == "^" { i += 1 }
                var count = 0
                func getEsc() throws(DockerfileError) {
                    guard i < s.count, s[i] != "-", s[i] != "]" else { throw bad() }
                    if s[i] == "\\" {
                        i += 1
                        guard i < s.count else { throw bad() }
                    }
                    i += 1
                    guard i < s.count else { throw bad() }
                }
                while true {
                    if i < s.count, s[i] == "]", count > 0 { i += 1; break }
                    try getEsc()
                    if s[i] == "-" {
                        i += 1
                        try getEsc()
                    }
                    count += 1
                }
            }
        }
    }

    /// Whether `tokens` match all of `v`: dynamic programming from the back, O(tokens × length).
    static func fullMatch(_ tokens: [Token], _ v: [Unicode.Scalar]) -> Bool {
        let n = v.count
        var next = [Bool](repeating: false, count: n + 1)
        next[n] = true
        var row = [Bool](repeating: false, count: n + 1)
        for token in tokens.reversed() {
            var aux = false  // for `(.*/)?`: some `/` at or after vi (no newline between) can end it
            for vi in stride(from: n, through: 0, by: -1) {
                let has = vi < n
                switch token {
                case .literal(let c):
                    row[vi] = has && v[vi] == c && next[vi + 1]
                case .question:
                    row[vi] = has && v[vi] != "/" && v[vi] != "\n" && next[vi + 1]
                case .star:
                    row[vi] = next[vi] || (has && v[vi] != "/" && v[vi] != "\n" && row[vi + 1])
                case .anyTail:
                    row[vi] = next[vi] || (has && v[vi] != "\n" && row[vi + 1])
                case .anyDirs:
                    aux = has && v[vi] != "\n" && ((v[vi] == "/" && next[vi + 1]) || aux)
                    row[vi] = next[vi] || aux
                case .charClass(let negated, let items):
                    row[vi] = has && (items.contains { $0.contains(v[vi].value) } != negated) && next[vi + 1]
                case .perlClass(let k):
                    if has {
                        let c = v[vi]
                        let inClass: Bool
                        switch k {
                        case "d", "D": inClass = c >= "0" && c <= "9"
                        case "s", "S": inClass = c == " " || c == "\t" || c == "\n" || c == "\u{0C}" || c == "\r"
                        default: inClass = IgnoreMatcher.isWordChar(c)
                        }
                        let negated = k == "D" || k == "S" || k == "W"
                        row[vi] = inClass != negated && next[vi + 1]
                    } else {
                        row[vi] = false
                    }
                case .textStart:
                    row[vi] = vi == 0 && next[vi]
                case .wordBoundary(let negated):
                    let before = vi > 0 && IgnoreMatcher.isWordChar(v[vi - 1])
                    let after = has && IgnoreMatcher.isWordChar(v[vi])
                    row[vi] = ((before != after) != negated) && next[vi]
                }
            }
            swap(&next, &row)
        }
        return next[0]
    }
}
