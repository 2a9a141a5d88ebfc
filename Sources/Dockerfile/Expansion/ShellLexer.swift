/// BuildKit's shell-word lexer (frontend/dockerfile/shell/lex.go semantics): quote removal,
/// escapes, `$var` / `${var...}` expansion and word splitting — the subset of POSIX shell
/// that Dockerfile instructions get *before* anything runs.
///
/// The lexer is a value; each call works on its own scratch state, so one lexer can be
/// shared freely (it is `Sendable`).
public struct ShellLexer: Sendable {
    /// The escape character (`\` or the backtick from `# escape=`).
    public var escape: Unicode.Scalar
    /// Keep quote characters in the output (used to find heredoc words).
    public var rawQuotes = false
    /// Keep escape characters in the output.
    public var rawEscapes = false
    /// Treat quotes as ordinary characters (heredoc bodies are expanded this way).
    public var skipProcessQuotes = false
    /// Leave references to unset variables as written instead of expanding them to "".
    public var skipUnsetEnv = false
    /// BuildKit v0.12.5's lexer (for `ParserRules.v0_12`): no `#`/`%`/`/` substitutions, `<`
    /// not special, nested substitutions keep the escape mode and do not share the word buffer.
    var legacyV012 = false

    public init(escape: Unicode.Scalar = "\\") {
        self.escape = escape
    }

    /// Expands `word` as one word: quotes removed, variables substituted, whitespace kept.
    public func processWord(_ word: String, env: some VariableLookup) throws(ExpansionError) -> String {
        try process(word, env: env).result
    }

    /// Expands `word` and splits the result into words the way a shell would
    /// (splitting happens after substitution; quoted whitespace does not split).
    public func processWords(_ word: String, env: some VariableLookup) throws(ExpansionError) -> [String] {
        try process(word, env: env).words
    }

    /// Expands `word` and reports which variables were found and which were not (for linting).
    public func process(_ word: String, env: some VariableLookup) throws(ExpansionError) -> ExpansionResult {
        let state = LexState(lexer: self, source: Array(word.unicodeScalars), env: env)
        do {
            let (result, words) = try state.processStopOn(nil, rawEscapes: rawEscapes)
            return ExpansionResult(result: result, words: words, matched: state.matched, unmatched: state.unmatched)
        } catch where error.exceedsLimit {
            let shown = word.count > 60 ? String(word.prefix(60)) + "…" : word
            throw ExpansionError(message: "expanding \"\(shown)\": \(error.message)", word: word, exceedsLimit: true)
        } catch {
            throw ExpansionError(message: "failed to process \"\(word)\": \(error.message)", word: word)
        }
    }
}

/// Bounds on what variable expansion may produce, so that a small hostile Dockerfile (values
/// doubling from ARG to ARG) fails in milliseconds instead of taking gigabytes. Real
/// Dockerfiles stay far below both: BuildKit itself caps a whole Dockerfile at a few MiB.
public enum ExpansionLimits {
    /// The most one expanded word may hold: 1 MiB (UTF-8 bytes).
    public static let maxWordBytes = 1 << 20
    /// The most all variables of one scope — a stage's ARGs, ENVs and base-image environment,
    /// or the global ARGs — may hold together (names and values, UTF-8 bytes): 8 MiB.
    public static let maxScopeBytes = 8 << 20
    /// The most the stage variables of a whole Dockerfile may add up to: 64 MiB.
    public static let maxDockerfileBytes = 64 << 20

    static func mib(_ n: Int) -> String { "\(n >> 20) MiB (\(n) bytes)" }

    static var wordMessage: String {
        "the result is larger than \(mib(maxWordBytes)), the limit for one expanded word; shorten the values it combines"
    }
}

/// The outcome of one expansion.
public struct ExpansionResult: Sendable, Equatable {
    /// The expanded word (whitespace kept).
    public var result: String
    /// The expanded text split into words.
    public var words: [String]
    /// Variables that were referenced and set.
    public var matched: Set<String>
    /// Variables that were referenced but not set.
    public var unmatched: Set<String>
}

/// A variable expansion failed (`${X:?msg}`, an unterminated quote, a bad substitution...).
public struct ExpansionError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    /// The word being expanded.
    public var word: String
    /// True when expansion stopped at one of the `ExpansionLimits`.
    public var exceedsLimit: Bool
    public var description: String { message }

    public init(message: String, word: String, exceedsLimit: Bool = false) {
        self.message = message
        self.word = word
        self.exceedsLimit = exceedsLimit
    }
}

/// Something that maps variable names to values. Names are case-sensitive (Unix semantics).
public protocol VariableLookup {
    func lookup(_ name: String) -> String?
}

/// Internal error with just a message; wrapped into `ExpansionError` at the API boundary.
struct LexFailure: Error {
    var message: String
    var exceedsLimit = false

    static var tooLarge: LexFailure { LexFailure(message: ExpansionLimits.wordMessage, exceedsLimit: true) }
}

/// Scratch state for one expansion.
final class LexState<Env: VariableLookup> {
    let lexer: ShellLexer
    let s: [Unicode.Scalar]
    var pos = 0
    let env: Env
    var rawEscapes: Bool
    var matched: Set<String> = []
    var unmatched: Set<String> = []
    /// `${a:-${b:-...}}` nesting; bounded so hostile input cannot exhaust the stack.
    var depth = 0
    static var maxDepth: Int { 256 }
    /// The partial word, shared by nested calls (see `WordCollector`).
    var wordsBuffer = ScalarBuffer()

    init(lexer: ShellLexer, source: [Unicode.Scalar], env: Env) {
        self.lexer = lexer
        self.s = source
        self.env = env
        self.rawEscapes = lexer.rawEscapes
    }

    @inline(__always) func peek() -> Unicode.Scalar? { pos < s.count ? s[pos] : nil }
    @inline(__always) func next() -> Unicode.Scalar? {
        guard pos < s.count else { return nil }
        defer { pos += 1 }
        return s[pos]
    }

    func getEnv(_ name: String) -> String? {
        if let v = env.lookup(name) {
            matched.insert(name)
            return v
        }
        unmatched.insert(name)
        return nil
    }

    func processStopOn(_ stop: Unicode.Scalar?, rawEscapes raw: Bool) throws(LexFailure) -> (String, [String]) {
        depth += 1
        var savedBuffer: ScalarBuffer?
        if lexer.legacyV012 {
            // v0.12.5 kept the partial word per call.
            savedBuffer = wordsBuffer
        }
        defer {
            depth -= 1
            if let savedBuffer { wordsBuffer = savedBuffer }
        }
        if depth > LexState.maxDepth {
            throw LexFailure(message: "variable substitutions nested more than \(LexState.maxDepth) deep")
        }
        var result = ScalarBuffer()
        wordsBuffer.removeAll()
        var words = WordCollector()
        let saved = rawEscapes
        if !lexer.legacyV012 { rawEscapes = raw }
        defer { rawEscapes = saved }
        let quotesSpecial = !lexer.skipProcessQuotes

        while let ch = peek() {
            if let stop, ch == stop {
                pos += 1
                if result.bytes.count > ExpansionLimits.maxWordBytes { throw LexFailure.tooLarge }
                return (result.string, words.finish(&wordsBuffer))
            }
            if result.bytes.count > ExpansionLimits.maxWordBytes { throw LexFailure.tooLarge }
            switch ch {
            case "$":
                let tmp = try processDollar()
                result.append(tmp)
                words.addString(tmp, &wordsBuffer)
            case "<" where !lexer.legacyV012:
                let tmp = processPossibleHeredoc()
                result.append(tmp)
                words.addRawString(tmp, &wordsBuffer)
            case "'" where quotesSpecial:
                let tmp = try processSingleQuote()
                result.append(tmp)
                words.addRawString(tmp, &wordsBuffer)
            case "\"" where quotesSpecial:
                let tmp = try processDoubleQuote()
                result.append(tmp)
                words.addRawString(tmp, &wordsBuffer)
            default:
                pos += 1
                if ch == lexer.escape {
                    if rawEscapes {
                        words.addRawChar(ch, &wordsBuffer)
                        result.append(ch)
                    }
                    guard let escaped = next() else { break }
                    words.addRawChar(escaped, &wordsBuffer)
                    result.append(escaped)
                } else {
                    words.addChar(ch, &wordsBuffer)
                    result.append(ch)
                }
            }
        }
        if let stop {
            throw LexFailure(message: "unexpected end of statement while looking for matching \(Character(stop))")
        }
        if result.bytes.count > ExpansionLimits.maxWordBytes { throw LexFailure.tooLarge }
        return (result.string, words.finish(&wordsBuffer))
    }

    func processSingleQuote() throws(LexFailure) -> String {
        var out = ScalarBuffer()
        let open = next()!
        if lexer.rawQuotes { out.append(open) }
        while true {
            guard let ch = next() else {
                throw LexFailure(message: "unexpected end of statement while looking for matching single-quote")
            }
            if ch == "'" {
                if lexer.rawQuotes { out.append(ch) }
                return out.string
            }
            out.append(ch)
        }
    }

    func processDoubleQuote() throws(LexFailure) -> String {
        var out = ScalarBuffer()
        let open = next()!
        if lexer.rawQuotes { out.append(open) }
        while true {
            guard let p = peek() else {
                throw LexFailure(message: "unexpected end of statement while looking for matching double-quote")
            }
            if p == "\"" {
                pos += 1
                if lexer.rawQuotes { out.append(p) }
                return out.string
            }
            if p == "$" {
                out.append(try processDollar())
                if out.bytes.count > ExpansionLimits.maxWordBytes { throw LexFailure.tooLarge }
                continue
            }
            var ch = next()!
            if ch == lexer.escape {
                if rawEscapes { out.append(ch) }
                guard let n = peek() else { continue }
                if n == "\"" || n == "$" || n == lexer.escape {
                    ch = next()!
                }
            }
            out.append(ch)
        }
    }

    func processDollar() throws(LexFailure) -> String {
        pos += 1  // the '$'
        if peek() != "{" {
            let name = processName()
            if name.isEmpty { return "$" }
            let value = getEnv(name)
            if value == nil && lexer.skipUnsetEnv { return "$" + name }
            return value ?? ""
        }
        pos += 1  // the '{'
        guard let first = peek() else { throw LexFailure(message: "syntax error: missing '}'") }
        if first == "{" || first == "}" || first == ":" {
            throw LexFailure(message: "syntax error: bad substitution")
        }
        let name = processName()
        let chOpt = next()
        var chs = chOpt.map { String(Character($0)) } ?? ""
        guard var ch = chOpt else {
            throw LexFailure(message: "syntax error: missing '}'")
        }
        switch ch {
        case "}":
            let value = getEnv(name)
            if value == nil && lexer.skipUnsetEnv { return "${\(name)}" }
            return value ?? ""
        case ":", "+", "-", "?", "#", "%":
            var nullIsUnset = false
            if ch == ":" {
                nullIsUnset = true
                guard let c2 = next() else {
                    throw LexFailure(message: "syntax error: missing '}'")
                }
                ch = c2
                chs.unicodeScalars.append(c2)
            }
            var raw = ch == "#" || ch == "%"
            if lexer.legacyV012 {
                // v0.12.5 knew only + - ?; after `:` anything took the generic path.
                if raw && !nullIsUnset {
                    throw LexFailure(message: "unsupported modifier (\(chs)) in substitution")
                }
                raw = false
            } else if nullIsUnset && raw {
                throw LexFailure(message: "unsupported modifier (\(chs)) in substitution")
            }
            let word: String
            do {
                word = try processStopOn("}", rawEscapes: raw).0
            } catch {
                if peek() == nil { throw LexFailure(message: "syntax error: missing '}'") }
                throw error
            }
            let value = getEnv(name)
            if lexer.skipUnsetEnv && value == nil {
                return "${\(name)\(chs)\(word)}"
            }
            let isUnset = value == nil || (nullIsUnset && value == "")
            switch ch {
            case "-":
                return isUnset ? word : (value ?? "")
            case "+":
                return isUnset ? "" : word
            case "?":
                guard let value else {
                    throw LexFailure(message: "\(name): \(word.isEmpty ? "is not allowed to be unset" : word)")
                }
                if nullIsUnset && value.isEmpty {
                    throw LexFailure(message: "\(name): \(word.isEmpty ? "is not allowed to be empty" : word)")
                }
                return value
            case "#" where !lexer.legacyV012, "%" where !lexer.legacyV012:
                var pattern = Array(word.unicodeScalars)
                var greedy = false
                if let f = pattern.first, f == ch {
                    greedy = true
                    pattern.removeFirst()
                }
                let v = Array((value ?? "").unicodeScalars)
                if ch == "%" {
                    return try ShellPattern.trimSuffix(pattern: pattern, value: v, greedy: greedy)
                }
                return try ShellPattern.trimPrefix(pattern: pattern, value: v, greedy: greedy)
            default:  // `${x:=y}` and friends
                throw LexFailure(message: "unsupported modifier (\(chs)) in substitution")
            }
        case "/" where !lexer.legacyV012:
            let replaceAll = peek() == "/"
            if replaceAll { pos += 1 }
            let pattern: String
            do {
                pattern = try processStopOn("/", rawEscapes: true).0
            } catch {
                if peek() == nil { throw LexFailure(message: "syntax error: missing '/' in ${}") }
                throw error
            }
            let replacement: String
            do {
                replacement = try processStopOn("}", rawEscapes: true).0
            } catch {
                if peek() == nil { throw LexFailure(message: "syntax error: missing '}'") }
                throw error
            }
            let value = getEnv(name)
            if lexer.skipUnsetEnv && value == nil {
                return "${\(name)/\(pattern)/\(replacement)}"
            }
            return try ShellPattern.replace(
                pattern: Array(pattern.unicodeScalars), in: Array((value ?? "").unicodeScalars),
                with: replacement, all: replaceAll)
        default:
            throw LexFailure(message: "unsupported modifier (\(chs)) in substitution")
        }
    }

    func processName() -> String {
        var name = ScalarBuffer()
        while let ch = peek() {
            if name.isEmpty && ch.properties.numericType == .decimal {
                while let d = peek(), d.properties.numericType == .decimal {
                    name.append(d)
                    pos += 1
                }
                return name.string
            }
            if name.isEmpty && isSpecialParam(ch) {
                pos += 1
                return String(Character(ch))
            }
            guard ch.isGoLetter || ch.properties.numericType == .decimal || ch == "_" else { break }
            name.append(ch)
            pos += 1
        }
        return name.string
    }

    func processPossibleHeredoc() -> String {
        pos += 1
        guard peek() == "<" else { return "<" }
        pos += 1
        var out = "<<"
        while let ch = peek(), ch == "\t" || ch == "\r" || ch == " " {
            out.unicodeScalars.append(ch)
            pos += 1
        }
        return out
    }

    func isSpecialParam(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "@", "*", "#", "?", "-", "$", "!", "0": return true
        default: return false
        }
    }
}

/// Collects shell words while characters are appended (BuildKit's wordsStruct). The
/// partial-word buffer lives in `LexState` and is shared by nested expansions, exactly as in
/// BuildKit: a nested `${...}` clears it, so `pre${X:-a}` splits into `a` — the words a
/// Dockerfile gets (EXPOSE, heredoc names) depend on this quirk.
struct WordCollector {
    var words: [String] = []
    var inWord = false

    mutating func addChar(_ ch: Unicode.Scalar, _ buf: inout ScalarBuffer) {
        if ch.isGoSpace {
            if inWord && !buf.isEmpty {
                words.append(buf.string)
                buf.removeAll()
                inWord = false
            }
        } else {
            addRawChar(ch, &buf)
        }
    }

    mutating func addRawChar(_ ch: Unicode.Scalar, _ buf: inout ScalarBuffer) {
        buf.append(ch)
        inWord = true
    }

    mutating func addString(_ s: String, _ buf: inout ScalarBuffer) {
        for ch in s.unicodeScalars { addChar(ch, &buf) }
    }

    mutating func addRawString(_ s: String, _ buf: inout ScalarBuffer) {
        buf.append(s)
        inWord = true
    }

    mutating func finish(_ buf: inout ScalarBuffer) -> [String] {
        if !buf.isEmpty {
            words.append(buf.string)
            buf.removeAll()
            inWord = false
        }
        return words
    }
}

extension Unicode.Scalar {
    /// Go's `unicode.IsSpace`.
    var isGoSpace: Bool {
        switch value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0: return true
        case 0...0xFF: return false
        default: return properties.isWhitespace
        }
    }

    /// Go's `unicode.IsLetter` (general category L*).
    var isGoLetter: Bool {
        if value < 0x80 {
            return (value >= 0x41 && value <= 0x5A) || (value >= 0x61 && value <= 0x7A)
        }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }
}
