/// Finding heredoc words (`[n]<<[-]WORD`) in an instruction line, as BuildKit does.
public enum Heredocs {
    /// Every heredoc started on `line` (the joined instruction line), bodies empty.
    static func fromLine(_ line: String, rules: ParserRules = .current) throws(ExpansionError) -> [Heredoc] {
        var lexer = ShellLexer(escape: "\\")
        lexer.legacyV012 = rules == .v0_12
        lexer.rawQuotes = true
        lexer.rawEscapes = true
        lexer.skipUnsetEnv = true
        // BuildKit ignores a lexing error here: no words, no heredocs.
        let words = (try? lexer.processWords(line, env: EmptyLookup())) ?? []
        var out: [Heredoc] = []
        for word in words {
            if let h = try parse(word, rules: rules) { out.append(h) }
        }
        return out
    }

    /// Parses one word as a heredoc start (`<<EOF`, `<<-"EOF"`, `3<<EOF`); nil if it is not one.
    public static func parse(_ word: String, rules: ParserRules = .current) throws(ExpansionError) -> Heredoc? {
        // ^(\d*)<<(-?)\s*([^<]*)$
        let u = Array(word.unicodeScalars)
        var i = 0
        while i < u.count, u[i] >= "0", u[i] <= "9" { i += 1 }
        let digits = String(String.UnicodeScalarView(u[0..<i]))
        guard i + 1 < u.count, u[i] == "<", u[i + 1] == "<" else { return nil }
        i += 2
        var chomp = false
        if i < u.count, u[i] == "-" {
            chomp = true
            i += 1
        }
        if rules == .current {
            while i < u.count, u[i] == " " || u[i] == "\t" || u[i] == "\n" || u[i] == "\u{0C}" || u[i] == "\r" { i += 1 }
        }
        let restScalars = u[i...]
        if restScalars.contains("<") { return nil }
        let rest = String(String.UnicodeScalarView(restScalars))
        if rest.isEmpty { return nil }
        let fd = Int(digits) ?? 0

        var lexer = ShellLexer(escape: "\\")
        lexer.skipUnsetEnv = true
        lexer.legacyV012 = rules == .v0_12
        let words = try lexer.processWords(rest, env: EmptyLookup())
        guard words.count == 1 else { return nil }
        lexer.rawQuotes = true
        let raw = try lexer.processWords(rest, env: EmptyLookup())
        guard raw.count == words.count else {
            throw ExpansionError(message: "internal lexing of heredoc produced inconsistent results: \(rest)", word: rest)
        }
        func quotes(_ s: String) -> Int { s.unicodeScalars.filter { $0 == "'" || $0 == "\"" }.count }
        return Heredoc(name: words[0], fileDescriptor: fd, expand: quotes(words[0]) == quotes(raw[0]), chomp: chomp)
    }
}
