/// Entry points of the Dockerfile module.
public enum Dockerfile {
    /// BuildKit's limit on one physical line (bufio.Scanner's token size minus one).
    public static let maxLineLength = 65535

    /// Parses Dockerfile text into BuildKit's raw syntax tree (no expansion, no validation).
    public static func parse(_ text: String, fileName: String = "Dockerfile", rules: ParserRules = .current) throws(DockerfileError) -> ParsedDockerfile {
        try parse(bytes: Array(text.utf8), fileName: fileName, rules: rules)
    }

    /// Parses raw bytes (a UTF-8 BOM is skipped; CRLF accepted; invalid UTF-8 becomes U+FFFD).
    public static func parse(bytes: [UInt8], fileName: String = "Dockerfile", rules: ParserRules = .current) throws(DockerfileError) -> ParsedDockerfile {
        var parser = SyntaxParser(data: bytes, fileName: fileName)
        parser.rules = rules
        return try parser.run()
    }
}

/// Which BuildKit parser to reproduce where versions differ.
public enum ParserRules: Sendable, Equatable {
    /// Current BuildKit (what `docker buildx build` does today; the conformance files'
    /// version). `RUN ["a"] more` is shell form; `<< EOF` (blank before the word) is a heredoc;
    /// `${v#p}`, `${v%p}`, `${v/p/r}` are supported.
    case current
    /// BuildKit v0.12.5, the reference of `slipway debug parse`: text after an exec-form
    /// array is ignored; a heredoc word must be `<<WORD`; a line using `${v#p}`-style
    /// substitutions cannot start heredocs (its lexer rejected them).
    case v0_12
}

/// The line-oriented state machine of BuildKit's `parser.Parse`.
struct SyntaxParser {
    let data: [UInt8]
    let fileName: String
    var escape: UInt8 = UInt8(ascii: "\\")
    var rules: ParserRules = .current
    // directive parser state
    var directivesDone = false
    var directiveLine = 0
    var directives: [Directive] = []

    init(data: [UInt8], fileName: String) {
        self.data = data
        self.fileName = fileName
    }

    func error(_ message: String, line: Int?, endLine: Int? = nil, instruction: String? = nil) -> DockerfileError {
        DockerfileError(.syntax, file: fileName, line: line, endLine: endLine, instruction: instruction, message: message)
    }

    /// Physical lines with their line endings, like BuildKit's `scanLines`.
    func splitLines() -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var start = 0
        var i = 0
        let n = data.count
        data.withUnsafeBufferPointer { buf in
            while i < n {
                if buf[i] == 0x0A {
                    out.append(data[start...i])
                    start = i + 1
                }
                i += 1
            }
        }
        if start < n { out.append(data[start..<n]) }
        return out
    }

    static func isSpaceByte(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }

    /// bytes.TrimLeftFunc(unicode.IsSpace), including the two-byte U+0085 and U+00A0.
    static func trimLeadingWhitespace(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var i = s.startIndex
        while i < s.endIndex {
            if isSpaceByte(s[i]) { i += 1; continue }
            if s[i] == 0xC2, i + 1 < s.endIndex, s[i + 1] == 0x85 || s[i + 1] == 0xA0 { i += 2; continue }
            if s[i] >= 0xE1 {
                // Other Unicode spaces (U+1680, U+2000-200A, 2028, 2029, 202F, 205F, 3000).
                let rest = s[i...]
                let scalar = String(decoding: rest.prefix(4), as: UTF8.self).unicodeScalars.first
                if let scalar, scalar.value > 0xFF, scalar.isGoSpace {
                    i += String(scalar).utf8.count
                    continue
                }
            }
            break
        }
        return s[i...]
    }

    static func trimNewline(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var e = s.endIndex
        while e > s.startIndex, s[e - 1] == 0x0A || s[e - 1] == 0x0D { e -= 1 }
        return s[s.startIndex..<e]
    }

    static func isComment(_ s: ArraySlice<UInt8>) -> Bool {
        let t = trimLeadingWhitespace(s)
        return t.first == UInt8(ascii: "#")
    }

    /// Go's `strings.TrimSpace` on bytes decoded as text.
    static func trimSpaceString(_ s: ArraySlice<UInt8>) -> String {
        LineParsers.trimSpace(String(goDecoding: s))
    }

    /// A directive line: `#` then `name = value`, only while no other line has been seen.
    mutating func possibleDirective(_ line: ArraySlice<UInt8>) throws(DockerfileError) -> Bool {
        directiveLine += 1
        if directivesDone { return false }
        guard line.first == UInt8(ascii: "#") else {
            directivesDone = true
            return false
        }
        let body = Array(SyntaxParser.trimLeadingWhitespace(line.dropFirst()))
        // ^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$
        func isAlpha(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
        func isAlnum(_ c: UInt8) -> Bool { isAlpha(c) || (c >= 0x30 && c <= 0x39) }
        func isS(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0C || c == 0x0D }
        var i = 0
        guard i < body.count, isAlpha(body[i]) else { directivesDone = true; return false }
        while i < body.count, isAlnum(body[i]) { i += 1 }
        let key = String(decoding: body[0..<i], as: UTF8.self).lowercased()
        while i < body.count, isS(body[i]) { i += 1 }
        guard i < body.count, body[i] == UInt8(ascii: "=") else { directivesDone = true; return false }
        i += 1
        guard i < body.count else { directivesDone = true; return false }
        while i < body.count, isS(body[i]) { i += 1 }
        var e = body.count
        while e > i, isS(body[e - 1]) { e -= 1 }
        let value: String
        if e > i {
            value = String(goDecoding: body[i..<e])
        } else {
            // Only blanks after `=`: the regexp's `(.+?)` still takes the last one.
            value = String(goDecoding: body[(body.count - 1)...])
        }
        guard key == "syntax" || key == "escape" || key == "check" else {
            directivesDone = true
            return false
        }
        if directives.contains(where: { $0.name == key }) {
            throw error("only one \(key) parser directive can be used", line: directiveLine)
        }
        directives.append(Directive(name: key, value: value, line: directiveLine))
        if key == "escape" {
            guard value == "`" || value == "\\" else {
                throw error("invalid escape token '\(value)' does not match ` or \\", line: directiveLine)
            }
            escape = UInt8(ascii: value == "`" ? "`" : "\\")
        }
        return true
    }

    /// processLine: strip the line ending (and leading blanks), look for a directive, drop comments.
    mutating func processLine(_ token: ArraySlice<UInt8>, stripLeft: Bool) throws(DockerfileError) -> (ArraySlice<UInt8>, Bool) {
        var t = SyntaxParser.trimNewline(token)
        if stripLeft { t = SyntaxParser.trimLeadingWhitespace(t) }
        let ok = try possibleDirective(t)
        if SyntaxParser.isComment(t) { return (t[t.endIndex...], ok) }
        return (t, ok)
    }

    /// Removes a trailing escape (plus blanks) that continues the line; returns whether the
    /// logical line ends here. An escaped escape (`\\`) at the end does not continue.
    func trimContinuation(_ line: ArraySlice<UInt8>) -> (ArraySlice<UInt8>, Bool) {
        var e = line.endIndex
        while e > line.startIndex, line[e - 1] == 0x20 || line[e - 1] == 0x09 { e -= 1 }
        guard e > line.startIndex, line[e - 1] == escape else { return (line, true) }
        let escPos = e - 1
        if escPos == line.startIndex || line[escPos - 1] != escape {
            return (line[line.startIndex..<escPos], false)
        }
        return (line, true)
    }

    mutating func run() throws(DockerfileError) -> ParsedDockerfile {
        var lines = splitLines()
        if let first = lines.first, first.starts(with: [0xEF, 0xBB, 0xBF]) {
            lines[0] = first.dropFirst(3)
        }
        for (i, l) in lines.enumerated() {
            if SyntaxParser.trimNewline(l).count > Dockerfile.maxLineLength {
                throw error("dockerfile line greater than max allowed size of \(Dockerfile.maxLineLength)", line: i + 1)
            }
        }
        var nodes: [Node] = []
        var warnings: [ParseWarning] = []
        var comments: [String] = []
        var currentLine = 0
        var li = 0
        while li < lines.count {
            let raw = lines[li]
            li += 1
            if SyntaxParser.isComment(raw) {
                let c = SyntaxParser.trimSpaceString(raw.dropFirst())
                if c.isEmpty { comments = [] } else { comments.append(c) }
            }
            let (processed, directiveOk) = try processLine(raw, stripLeft: true)
            if directiveOk, !comments.isEmpty { comments.removeLast() }
            currentLine += 1
            let startLine = currentLine
            var (bytes, isEnd) = trimContinuation(processed)
            if isEnd && bytes.isEmpty { continue }
            var buf = Array(bytes)
            var hasEmptyContinuation = false
            while !isEnd && li < lines.count {
                let next = lines[li]
                li += 1
                let (b, _) = try processLine(next, stripLeft: false)
                currentLine += 1
                if SyntaxParser.isComment(next) { continue }
                if SyntaxParser.trimLeadingWhitespace(b).isEmpty {
                    hasEmptyContinuation = true
                    continue
                }
                (bytes, isEnd) = trimContinuation(b)
                buf.append(contentsOf: bytes)
            }
            let line = String(goDecoding: buf)
            if hasEmptyContinuation {
                warnings.append(ParseWarning(message: "Empty continuation line found in: \(line)", line: currentLine))
            }
            let parsers = LineParsers(escape: Unicode.Scalar(escape), rules: rules)
            var node: Node
            do {
                node = try parsers.node(for: line, comments: comments)
            } catch {
                guard case .message(let m) = error else { throw self.error("invalid instruction", line: startLine) }
                let keyword = parsers.splitCommand(line).0
                throw self.error(m, line: startLine, endLine: currentLine, instruction: keyword)
            }
            if SyntaxParser.canContainHeredoc(node), line.hasHeredocMarker() {
                let found: [Heredoc]
                do {
                    found = try Heredocs.fromLine(line, rules: rules)
                } catch {
                    throw self.error(error.message, line: startLine, endLine: currentLine, instruction: node.keyword)
                }
                for var heredoc in found {
                    var terminated = false
                    var content: [UInt8] = []
                    let terminator = Array(heredoc.name.utf8)
                    while li < lines.count {
                        let l = lines[li]
                        li += 1
                        currentLine += 1
                        var candidate = SyntaxParser.trimNewline(l)
                        if heredoc.chomp {
                            while candidate.first == 0x09 { candidate = candidate.dropFirst() }
                        }
                        if candidate.elementsEqual(terminator) {
                            terminated = true
                            break
                        }
                        content.append(contentsOf: l)
                    }
                    if !terminated {
                        throw self.error("unterminated heredoc", line: startLine, endLine: currentLine, instruction: node.keyword)
                    }
                    heredoc.content = String(goDecoding: content)
                    node.heredocs.append(heredoc)
                }
            }
            node.startLine = startLine
            node.endLine = currentLine
            if var t = node.trigger {
                t.startLine = startLine
                t.endLine = currentLine
                t.heredocs = node.heredocs
                node.trigger = t
            }
            nodes.append(node)
            comments = []
        }
        if nodes.isEmpty {
            throw error("file with no instructions", line: nil)
        }
        return ParsedDockerfile(fileName: fileName, nodes: nodes, directives: directives,
                                escapeToken: Unicode.Scalar(escape), warnings: warnings)
    }

    static func canContainHeredoc(_ node: Node) -> Bool {
        var n = node
        if n.command == "onbuild", let t = n.trigger { n = t }
        switch n.command {
        case "add", "copy", "run": return !n.isJSON
        default: return false
        }
    }
}
