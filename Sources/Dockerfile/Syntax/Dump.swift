/// Go's `strconv.Quote`, so AST dumps (and history strings) match BuildKit's byte for byte.
public enum GoQuote {
    public static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{07}": out += "\\a"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{0B}": out += "\\v"
            default:
                if isPrint(c) {
                    out.unicodeScalars.append(c)
                } else if c.value < 0x20 || c.value == 0x7F {
                    out += "\\x" + hex(c.value, 2)
                } else if c.value < 0x10000 {
                    out += "\\u" + hex(c.value, 4)
                } else {
                    out += "\\U" + hex(c.value, 8)
                }
            }
        }
        return out + "\""
    }

    static func hex(_ v: UInt32, _ width: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    /// Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and ASCII space.
    static func isPrint(_ c: Unicode.Scalar) -> Bool {
        if c.value < 0x80 { return c.value >= 0x20 && c.value < 0x7F }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark,
             .decimalNumber, .letterNumber, .otherNumber,
             .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation,
             .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }

    /// Go's `%q` of a `[]string`: `["a" "b"]`.
    static func quoteList(_ list: [String]) -> String {
        "[" + list.map(quote).joined(separator: " ") + "]"
    }
}

extension Node {
    /// BuildKit's `Node.Dump()` S-expression for this instruction, e.g.
    /// `run ["--mount=type=cache,target=/x"] "make"` (without the outer parentheses).
    public func dump() -> String {
        var s = keyword.lowercased()
        if !flags.isEmpty { s += " " + GoQuote.quoteList(flags) }
        if let trigger {
            s += " (" + trigger.dump() + ")"
        } else if isUnknown {
            s += " \"\""
        } else {
            for v in values { s += " " + GoQuote.quote(v) }
        }
        return LineParsers.trimSpace(s)
    }
}

extension ParsedDockerfile {
    /// BuildKit's AST dump of the whole file: one `(instruction ...)` per line, as in its
    /// parser tests' `result` files (without the final newline).
    public func dump() -> String {
        nodes.map { "(" + $0.dump() + ")" }.joined(separator: "\n")
    }
}
