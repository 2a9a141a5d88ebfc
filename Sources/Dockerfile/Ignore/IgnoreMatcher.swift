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
        var dirCount: Int
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
            out.append(Pattern(text: p, isException: isException, dirCount: p.split(separator: "/", omittingEmptySubsequences: false).count,
                               kind: kind, tokens: tokens))
        }
        patterns = out
        hasExceptions = exceptions
    }

    /// Whether `path` is sent to the build (not excluded by the rules).
    public func includes(_ path: String) -> Bool {
        let file = IgnoreMatcher.normalize(path)
        if file == "." || file.isEmpty { return true }
        return !matches(file)
    }

    /// Whether anything under `directory` could be included — false means the whole
    /// directory can be skipped. Mirrors BuildKit's context walker: an excluded directory is
    /// only entered when an `!` exception names a path inside it.
    public func mightIncludeUnder(_ directory: String) -> Bool {
        let dir = IgnoreMatcher.normalize(directory)
        if dir == "." || dir.isEmpty { return true }
        if !matches(dir) { return true }
        guard hasExceptions else { return false }
        let dirSlash = dir + "/"
        return patterns.contains { $0.isException && ($0.text + "/").hasPrefix(dirSlash) }
    }

    /// patternmatcher's `Matches`: true = excluded.
    func matches(_ file: String) -> Bool {
        var matched = false
        let parent = IgnoreMatcher.dirName(file)
        let parentDirs = parent.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for pattern in patterns {
            if pattern.isException != matched { continue }
            var match = IgnoreMatcher.match(pattern, file)
            if !match && parent != "." && pattern.dirCount <= parentDirs.count {
                match = IgnoreMatcher.match(pattern, parentDirs[0..<pattern.dirCount].joined(separator: "/"))
            }
            if match { matched = !pattern.isException }
        }
        return matched
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
                    tokens.append(.literal(s[i]))
                    i += 1
                    kind = .regexp
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
            } else {
                tokens.append(.literal(ch))
            }
        }
        return (kind, tokens)
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
                if i < s.count, s[i] == "^" { i += 1 }
                var count = 0
                while true {
                    guard i < s.count else { throw bad() }
                    if s[i] == "]" && count > 0 { i += 1; break }
                    if s[i] == "\\" { i += 1; guard i < s.count else { throw bad() } }
                    i += 1
                    count += 1
                    if i < s.count, s[i] == "-" {
                        i += 1
                        guard i < s.count, s[i] != "]" else { throw bad() }
                        if s[i] == "\\" { i += 1; guard i < s.count else { throw bad() } }
                        i += 1
                    }
                }
            }
        }
    }

    static func fullMatch(_ tokens: [Token], _ v: [Unicode.Scalar]) -> Bool {
        var failed = Set<Int>()
        let width = v.count + 1
        func go(_ ti: Int, _ vi: Int) -> Bool {
            if ti == tokens.count { return vi == v.count }
            let key = ti * width + vi
            if failed.contains(key) { return false }
            var ok = false
            switch tokens[ti] {
            case .literal(let c):
                ok = vi < v.count && v[vi] == c && go(ti + 1, vi + 1)
            case .question:
                ok = vi < v.count && v[vi] != "/" && v[vi] != "\n" && go(ti + 1, vi + 1)
            case .star:
                var k = vi
                while true {
                    if go(ti + 1, k) { ok = true; break }
                    guard k < v.count, v[k] != "/", v[k] != "\n" else { break }
                    k += 1
                }
            case .anyTail:
                var k = vi
                while true {
                    if go(ti + 1, k) { ok = true; break }
                    guard k < v.count, v[k] != "\n" else { break }
                    k += 1
                }
            case .anyDirs:
                if go(ti + 1, vi) {
                    ok = true
                } else {
                    var k = vi
                    while k < v.count, v[k] != "\n" {
                        if v[k] == "/", go(ti + 1, k + 1) { ok = true; break }
                        k += 1
                    }
                }
            case .charClass(let negated, let items):
                if vi < v.count {
                    let inClass = items.contains { $0.contains(v[vi].value) }
                    ok = inClass != negated && go(ti + 1, vi + 1)
                }
            }
            if !ok { failed.insert(key) }
            return ok
        }
        return go(0, 0)
    }
}
