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

    /// The end index of the preferred match of `tokens` at `start` in `value`, or nil.
    /// Failed (token, position) pairs are memoised so `*a*a*a*b` cannot go exponential.
    static func matchEnd(_ tokens: [Token], _ value: [Unicode.Scalar], at start: Int, greedy: Bool) -> Int? {
        var failed = Set<Int>()
        let width = value.count + 1
        func go(_ ti: Int, _ vi: Int) -> Int? {
            if ti == tokens.count { return vi }
            let key = ti * width + vi
            if failed.contains(key) { return nil }
            var result: Int?
            switch tokens[ti] {
            case .literal(let c):
                if vi < value.count, value[vi] == c { result = go(ti + 1, vi + 1) }
            case .any:
                if vi < value.count, value[vi] != "\n" { result = go(ti + 1, vi + 1) }
            case .star:
                var limit = vi
                while limit < value.count && value[limit] != "\n" { limit += 1 }
                if greedy {
                    var k = limit
                    while k >= vi, result == nil {
                        result = go(ti + 1, k)
                        k -= 1
                    }
                } else {
                    var k = vi
                    while k <= limit, result == nil {
                        result = go(ti + 1, k)
                        k += 1
                    }
                }
            }
            if result == nil { failed.insert(key) }
            return result
        }
        return go(0, start)
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
        func find(from: Int) -> (Int, Int)? {
            var start = from
            while start <= value.count {
                if let e = matchEnd(tokens, value, at: start, greedy: true) { return (start, e) }
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
        while searchPos <= value.count {
            guard let (a, b) = find(from: searchPos) else { break }
            out.append(contentsOf: value[lastMatchEnd..<a])
            if b > lastMatchEnd || a == 0 {
                out.append(contentsOf: expandTemplate(replacement, match: value[a..<b]).unicodeScalars)
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
