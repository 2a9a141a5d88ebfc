/// Per-instruction argument parsing of one logical line, as BuildKit's `line_parsers.go`
/// and `split_command.go` do it. Each function returns the AST argument list.
struct LineParsers {
    let escape: Unicode.Scalar
    var rules: ParserRules = .current

    struct Parsed {
        var values: [String] = []
        var isJSON = false
        var trigger: Node?
        var isUnknown = false
    }

    enum Failure: Error {
        case message(String)
    }

    /// ONBUILD nesting BuildKit's parser would follow; deeper is rejected (it is invalid anyway).
    static let maxOnbuildDepth = 64

    /// Builds the node for one logical line (keyword, flags, arguments).
    func node(for line: String, comments: [String], depth: Int = 0) throws(Failure) -> Node {
        guard depth <= LineParsers.maxOnbuildDepth else { throw .message("ONBUILD triggers nested too deeply") }
        let (cmd, flags, args) = splitCommand(line)
        let parsed = try dispatch(cmd.lowercased(), args, depth: depth)
        return Node(keyword: cmd, flags: flags, values: parsed.values, isJSON: parsed.isJSON,
                    original: line, comments: comments, trigger: parsed.trigger, isUnknown: parsed.isUnknown)
    }

    func dispatch(_ cmd: String, _ rest: String, depth: Int) throws(Failure) -> Parsed {
        switch cmd {
        case "add", "copy", "volume": return try parseMaybeJSONToList(rest)
        case "arg": return Parsed(values: parseWords(rest))
        case "cmd", "entrypoint", "run", "shell": return try parseMaybeJSON(rest)
        case "env": return try parseNameVal(rest, key: "ENV")
        case "label": return try parseNameVal(rest, key: "LABEL")
        case "expose", "from": return Parsed(values: splitWhitespace(rest))
        case "healthcheck": return try parseHealthConfig(rest)
        case "maintainer", "stopsignal", "user", "workdir": return Parsed(values: rest.isEmpty ? [] : [rest])
        case "onbuild":
            if rest.isEmpty { return Parsed() }
            var child = try node(for: rest, comments: [], depth: depth + 1)
            child.original = rest
            return Parsed(trigger: child)
        default:
            return Parsed(isUnknown: true)
        }
    }

    // MARK: splitting the command

    /// Go's `reWhitespace` class: `[\t\v\f\r ]`.
    @inline(__always) static func isRegexSpace(_ c: Unicode.Scalar) -> Bool {
        c == " " || c == "\t" || c == "\u{0B}" || c == "\u{0C}" || c == "\r"
    }

    @inline(__always) static func isRegexSpace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x0B || c == 0x0C || c == 0x0D
    }

    /// Go's `strings.TrimSpace`.
    static func trimSpace(_ s: String) -> String {
        let u = s.unicodeScalars
        guard let first = u.firstIndex(where: { !$0.isGoSpace }) else { return "" }
        let last = u.lastIndex(where: { !$0.isGoSpace })!
        return String(u[first...last])
    }

    static func trimLeftSpace(_ s: Substring.UnicodeScalarView) -> Substring.UnicodeScalarView {
        guard let first = s.firstIndex(where: { !$0.isGoSpace }) else { return s[s.endIndex...] }
        return s[first...]
    }

    func splitCommand(_ line: String) -> (String, [String], String) {
        let trimmed = LineParsers.trimSpace(line)
        let u = trimmed.unicodeScalars
        guard let ws = u.firstIndex(where: LineParsers.isRegexSpace) else {
            return (trimmed, [], "")
        }
        let cmd = String(u[..<ws])
        var restStart = ws
        while restStart < u.endIndex, LineParsers.isRegexSpace(u[restStart]) { restStart = u.index(after: restStart) }
        let rest = String(u[restStart...])
        let (args, flags) = extractBuilderFlags(rest)
        return (cmd, flags, LineParsers.trimSpace(args))
    }

    /// Leading `--flag` words. Works on bytes like BuildKit (a byte is taken as a rune), so
    /// flags hold exactly what BuildKit's hold even for non-ASCII text.
    func extractBuilderFlags(_ line: String) -> (String, [String]) {
        let b = Array(line.utf8)
        var words: [String] = []
        var word: [UInt8] = []
        var inWord = false, inQuote = false
        var quote: UInt8 = 0
        var blankOK = false
        let esc = UInt8(truncatingIfNeeded: escape.value)
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 }
        func rest(_ pos: Int) -> String { String(decoding: b[pos...], as: UTF8.self) }
        func wordString() -> String {
            // BuildKit writes each byte as a rune; only non-ASCII bytes differ from UTF-8.
            if !word.contains(where: { $0 >= 0x80 }) { return String(decoding: word, as: UTF8.self) }
            var buf = ScalarBuffer()
            for b in word { buf.append(Unicode.Scalar(b)) }
            return buf.string
        }
        var pos = 0
        while pos <= b.count {
            let atEnd = pos == b.count
            let ch: UInt8 = atEnd ? 0 : b[pos]
            if !inWord && !inQuote {
                if atEnd { break }
                if isSpace(ch) { pos += 1; continue }
                if ch != UInt8(ascii: "-") || pos + 1 == b.count || b[pos + 1] != UInt8(ascii: "-") {
                    return (rest(pos), words)
                }
                inWord = true
            }
            if atEnd {
                let w = wordString()
                if w != "--" && (blankOK || !w.isEmpty) { words.append(w) }
                break
            }
            if inWord {
                if isSpace(ch) {
                    let w = wordString()
                    inWord = false
                    if w == "--" { return (rest(pos), words) }
                    if blankOK || !w.isEmpty { words.append(w) }
                    word.removeAll()
                    blankOK = false
                    pos += 1
                    continue
                }
                if ch == UInt8(ascii: "'") || ch == UInt8(ascii: "\"") {
                    quote = ch
                    blankOK = true
                    inWord = false
                    inQuote = true
                    pos += 1
                    continue
                }
                var c = ch
                if ch == esc {
                    if pos + 1 == b.count { pos += 1; continue }
                    pos += 1
                    c = b[pos]
                }
                word.append(c)
                pos += 1
                continue
            }
            // in quote
            if ch == quote {
                inQuote = false
                inWord = true
                pos += 1
                continue
            }
            var c = ch
            if ch == esc {
                if pos + 1 == b.count {
                    inQuote = false
                    inWord = true
                    pos += 1
                    continue
                }
                pos += 1
                c = b[pos]
            }
            word.append(c)
            pos += 1
        }
        return ("", words)
    }

    // MARK: argument forms

    /// Go's `reWhitespace.Split(rest, -1)` as `parseStringsWhitespaceDelimited` uses it.
    func splitWhitespace(_ rest: String) -> [String] {
        if rest.isEmpty { return [] }
        return LineParsers.regexSplit(rest, limit: -1)
    }

    /// Go's `regexp.Split` with the `[\t\v\f\r ]+` expression.
    static func regexSplit(_ s: String, limit: Int) -> [String] {
        let u = s.unicodeScalars
        if u.isEmpty { return [""] }
        var out: [String] = []
        var beg = u.startIndex
        var end = u.startIndex
        var i = u.startIndex
        while i < u.endIndex {
            guard isRegexSpace(u[i]) else { i = u.index(after: i); continue }
            var j = i
            while j < u.endIndex, isRegexSpace(u[j]) { j = u.index(after: j) }
            if limit > 0 && out.count == limit - 1 { break }
            end = i
            if j != u.startIndex { out.append(String(u[beg..<end])) }
            beg = j
            i = j
        }
        if end != u.endIndex || out.isEmpty && beg == u.startIndex {
            out.append(String(u[beg...]))
        }
        return out
    }

    /// Words separated by whitespace, quotes and escapes kept (BuildKit's `parseWords`).
    func parseWords(_ rest: String) -> [String] {
        let r = Array(rest.unicodeScalars)
        var words: [String] = []
        var inWord = false, inQuote = false
        var quote: Unicode.Scalar = "\0"
        var blankOK = false
        var sb = ScalarBuffer()
        var pos = 0
        while pos <= r.count {
            let atEnd = pos == r.count
            var ch: Unicode.Scalar = atEnd ? "\0" : r[pos]
            if !inWord && !inQuote {
                if atEnd { break }
                if ch.isGoSpace { pos += 1; continue }
                inWord = true
            }
            if atEnd {
                if blankOK || !sb.isEmpty { words.append(sb.string) }
                break
            }
            if inWord {
                if ch.isGoSpace {
                    inWord = false
                    if blankOK || !sb.isEmpty { words.append(sb.string) }
                    sb.removeAll()
                    blankOK = false
                    pos += 1
                    continue
                }
                if ch == "'" || ch == "\"" {
                    quote = ch
                    blankOK = true
                    inWord = false
                    inQuote = true
                }
                if ch == escape {
                    if pos + 1 == r.count { pos += 1; continue }
                    sb.append(ch)
                    pos += 1
                    ch = r[pos]
                }
                sb.append(ch)
                pos += 1
                continue
            }
            // in quote
            if ch == quote {
                inQuote = false
                inWord = true
            }
            if ch == escape && quote != "'" {
                if pos + 1 == r.count {
                    inQuote = false
                    inWord = true
                    pos += 1
                    continue
                }
                pos += 1
                sb.append(ch)
                ch = r[pos]
            }
            sb.append(ch)
            pos += 1
        }
        return words
    }

    func parseNameVal(_ rest: String, key: String) throws(Failure) -> Parsed {
        let words = parseWords(rest)
        if words.isEmpty { return Parsed() }
        if !words[0].hasByte("=") {
            let parts = LineParsers.regexSplit(rest, limit: 2)
            if parts.count < 2 { throw .message("\(key) must have two arguments") }
            return Parsed(values: [parts[0], parts[1], ""])
        }
        var values: [String] = []
        for word in words {
            guard let eq = word.firstIndex(of: "=") else {
                throw .message("Syntax error - can't find = in \(GoQuote.quote(word)). Must be of the form: name=value")
            }
            values.append(String(word[..<eq]))
            values.append(String(word[word.index(after: eq)...]))
            values.append("=")
        }
        return Parsed(values: values)
    }

    func parseJSON(_ rest: String) throws(Failure) -> Parsed? {
        let u = LineParsers.trimLeftSpace(Substring(rest).unicodeScalars)
        guard u.first == "[" else { return nil }
        switch JSONArray.decode(Array(u), allowTrailingText: rules == .v0_12) {
        case .strings(let s): return Parsed(values: s, isJSON: true)
        case .notStringArray: throw .message("when using JSON array syntax, arrays must be comprised of strings only")
        case .invalid: return nil
        }
    }

    func parseMaybeJSON(_ rest: String) throws(Failure) -> Parsed {
        if rest.isEmpty { return Parsed() }
        if let json = try parseJSON(rest) { return json }
        return Parsed(values: [rest])
    }

    func parseMaybeJSONToList(_ rest: String) throws(Failure) -> Parsed {
        if let json = try parseJSON(rest) { return json }
        return Parsed(values: splitWhitespace(rest))
    }

    func parseHealthConfig(_ rest: String) throws(Failure) -> Parsed {
        // BuildKit scans bytes here; a byte is a "space" per unicode.IsSpace(rune(byte)).
        let b = Array(rest.utf8)
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 }
        var sep = 0
        while sep < b.count, !isSpace(b[sep]) { sep += 1 }
        var next = sep
        while next < b.count, isSpace(b[next]) { next += 1 }
        if sep == 0 { return Parsed() }
        let typ = String(decoding: b[..<sep], as: UTF8.self)
        let cmd = try parseMaybeJSON(String(decoding: b[next...], as: UTF8.self))
        return Parsed(values: [typ] + cmd.values, isJSON: cmd.isJSON)
    }
}
