/// Shell patterns inside `${v#p}`, `${v%p}` and `${v/p/r}`: `*` and `?` wildcards, `\` escapes,
/// no bracket expressions. BuildKit compiles these to Go regular expressions; this matcher
/// reproduces that behaviour (leftmost-first preference, wildcards never match a newline)
/// with a small backtracking matcher.
enum ShellPattern {
    enum Token: Equatable {
        case star
        case any
        case literal(Unicode.Scalar)
    }

    static func tokenize(_ pattern: [Unicode.Scalar]) throws(LexFailure) -> [Token] {
        var out: [Token] = []
        var i = 0
        while i < pattern.count {
            let c = pattern[i]
            i += 1
            switch c {
            case "*": out.append(.star)
            case "?": out.append(.any)
            case "\\":
                if i < pattern.count, pattern[i] == "}" || pattern[i] == "/" {
                    continue  // the escape only protected the ${} syntax
                }
                guard i < pattern.count else {
                    throw LexFailure(message: "invalid pattern (\(String(String.UnicodeScalarView(pattern)))) in substitution: invalid escape '\\'")
                }
                let e = pattern[i]
                i += 1
                guard e == "*" || e == "?" || e == "\\" else {
                    throw LexFailure(message: "invalid pattern (\(String(String.UnicodeScalarView(pattern)))) in substitution: invalid escape '\\\(Character(e))'")
                }
                out.append(.literal(e))
            default:
                out.append(.literal(c))
            }
        }
        return out
    }

    /// For every start position, the end of the preferred match of `tokens` (leftmost-first
    /// backtracking order: greedy stars try the longest first, lazy ones the shortest), or -1.
    /// Dynamic programming over (token, position) from the back: O(tokens × length) time,
    /// two rows of memory, no recursion — hostile patterns cannot blow up.
    static func matchEnds(_ tokens: [Token], _ value: [Unicode.Scalar], greedy: Bool) -> [Int] {
        let n = value.count
        var next = Array(0...n)  // after the last token: the match ends where we are
        var row = [Int](repeating: -1, count: n + 1)
        for token in tokens.reversed() {
            for vi in stride(from: n, through: 0, by: -1) {
                let canStep = vi < n && value[vi] != "\n"
                switch token {
                case .literal(let c):
                    row[vi] = vi < n && value[vi] == c ? next[vi + 1] : -1
                case .any:
                    row[vi] = canStep ? next[vi + 1] : -1
                case .star:
                    let longer = canStep ? row[vi + 1] : -1
                    if greedy {
                        row[vi] = longer >= 0 ? longer : next[vi]
                    } else {
                        row[vi] = next[vi] >= 0 ? next[vi] : longer
                    }
                }
            }
            swap(&next, &row)
        }
        return next
    }

    static func matchEnd(_ tokens: [Token], _ value: [Unicode.Scalar], at start: Int, greedy: Bool) -> Int? {
        let e = matchEnds(tokens, value, greedy: greedy)[start]
        return e >= 0 ? e : nil
    }

    static func trimPrefix(pattern: [Unicode.Scalar], value: [Unicode.Scalar], greedy: Bool) throws(LexFailure) -> String {
        let tokens = try tokenize(pattern)
        if let end = matchEnd(tokens, value, at: 0, greedy: greedy) {
            return String(String.UnicodeScalarView(value[end...]))
        }
        return String(String.UnicodeScalarView(value))
    }

    static func trimSuffix(pattern: [Unicode.Scalar], value: [Unicode.Scalar], greedy: Bool) throws(LexFailure) -> String {
        // Reverse pattern and value so the shortest/longest *suffix* becomes a prefix search.
        let tokens = Array(try tokenize(pattern).reversed())
        let rev = Array(value.reversed())
        if let end = matchEnd(tokens, rev, at: 0, greedy: greedy) {
            return String(String.UnicodeScalarView(rev[end...].reversed()))
        }
        return String(String.UnicodeScalarView(value))
    }

    /// `${v/p/r}` (first match) and `${v//p/r}` (all matches), greedy wildcards.
    static func replace(pattern: [Unicode.Scalar], in value: [Unicode.Scalar], with replacement: String, all: Bool) throws(LexFailure) -> String {
        let tokens = try tokenize(pattern)
        let ends = matchEnds(tokens, value, greedy: true)
        func find(from: Int) -> (Int, Int)? {
            var start = from
            while start <= value.count {
                if ends[start] >= 0 { return (start, ends[start]) }
                start += 1
            }
            return nil
        }
        if !all {
            guard let (a, b) = find(from: 0) else { return String(String.UnicodeScalarView(value)) }
            var out = String.UnicodeScalarView(value[..<a])
            out.append(contentsOf: replacement.unicodeScalars)
            out.append(contentsOf: value[b...])
            return String(out)
        }
        // Go's Regexp.ReplaceAllString: `$0`/`${0}` in the replacement is the match, `$$` is `$`.
        var out = String.UnicodeScalarView()
        var searchPos = 0
        var lastMatchEnd = 0
        // Scalars appended so far (a scalar is at least one byte): `${x//?/$big}` multiplies.
        var produced = 0
        while searchPos <= value.count {
            guard let (a, b) = find(from: searchPos) else { break }
            out.append(contentsOf: value[lastMatchEnd..<a])
            produced += a - lastMatchEnd
            if b > lastMatchEnd || a == 0 {
                let expanded = expandTemplate(replacement, match: value[a..<b])
                produced += expanded.utf8.count
                if produced > ExpansionLimits.maxWordBytes { throw LexFailure.tooLarge }
                out.append(contentsOf: expanded.unicodeScalars)
            }
            lastMatchEnd = b
            if searchPos + 1 > b { searchPos += 1 } else { searchPos = b }
        }
        out.append(contentsOf: value[lastMatchEnd...])
        return String(out)
    }

    static func expandTemplate(_ template: String, match: ArraySlice<Unicode.Scalar>) -> String {
        let t = Array(template.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < t.count {
            if t[i] != "$" {
                out.append(t[i])
                i += 1
                continue
            }
            i += 1
            if i < t.count && t[i] == "$" {
                out.append("$")
                i += 1
                continue
            }
            // extract a name: `name` or `{name}`
            var j = i
            let brace = j < t.count && t[j] == "{"
            if brace { j += 1 }
            let nameStart = j
            while j < t.count && (t[j].isGoLetter || t[j].properties.numericType == .decimal || t[j] == "_") { j += 1 }
            let name = Array(t[nameStart..<j])
            var ok = !name.isEmpty
            if ok && brace {
                if j < t.count && t[j] == "}" { j += 1 } else { ok = false }
            }
            guard ok else {
                out.append("$")
                continue
            }
            i = j
            if name == ["0"] { out.append(contentsOf: match) }
        }
        return String(out)
    }
}
