/// Decodes the exec form (`["a", "b"]`) the way BuildKit's parser does with Go's
/// `encoding/json`: the JSON value must be an array of strings; a well-formed array with a
/// non-string element is an error; anything else falls back to the shell form. Text after the
/// array is an error (→ shell form) in current BuildKit, ignored in BuildKit ≤ v0.14 (`ParserRules`).
enum JSONArray {
    enum Result: Equatable {
        case strings([String])
        case notStringArray
        case invalid
    }

    static let maxDepth = 10000

    static func decode(_ s: [Unicode.Scalar], allowTrailingText: Bool = false) -> Result {
        var p = 0
        func ws() {
            while p < s.count, s[p] == " " || s[p] == "\t" || s[p] == "\n" || s[p] == "\r" { p += 1 }
        }
        ws()
        guard p < s.count, s[p] == "[" else { return .invalid }
        p += 1
        var out: [String] = []
        var allStrings = true
        ws()
        if p < s.count, s[p] == "]" {
            if !allowTrailingText {
                p += 1
                ws()
                if p < s.count { return .invalid }
            }
            return .strings([])
        }
        while true {
            ws()
            guard p < s.count else { return .invalid }
            if s[p] == "\"" {
                guard let str = parseString(s, &p) else { return .invalid }
                out.append(str)
            } else {
                guard skipValue(s, &p, depth: 1) else { return .invalid }
                allStrings = false
            }
            ws()
            guard p < s.count else { return .invalid }
            if s[p] == "," {
                p += 1
                continue
            }
            if s[p] == "]" { break }
            return .invalid
        }
        if !allowTrailingText {
            p += 1
            ws()
            if p < s.count { return .invalid }
        }
        return allStrings ? .strings(out) : .notStringArray
    }

    /// Parses a JSON string starting at the opening quote; nil when malformed.
    static func parseString(_ s: [Unicode.Scalar], _ p: inout Int) -> String? {
        p += 1
        var out = ScalarBuffer()
        while p < s.count {
            let c = s[p]
            p += 1
            if c == "\"" { return out.string }
            if c.value < 0x20 { return nil }
            if c != "\\" {
                out.append(c)
                continue
            }
            guard p < s.count else { return nil }
            let e = s[p]
            p += 1
            switch e {
            case "\"", "\\", "/": out.append(e)
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "u":
                guard let u = hex4(s, p) else { return nil }
                p += 4
                if (0xD800..<0xDC00).contains(u) {
                    // A high surrogate combines with a following \uDC00-\uDFFF; otherwise U+FFFD.
                    if p + 1 < s.count, s[p] == "\\", s[p + 1] == "u", let lo = hex4(s, p + 2), (0xDC00..<0xE000).contains(lo) {
                        p += 6
                        let combined = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
                        out.append(Unicode.Scalar(combined) ?? "\u{FFFD}")
                    } else {
                        out.append("\u{FFFD}")
                    }
                } else {
                    out.append(Unicode.Scalar(u) ?? "\u{FFFD}")
                }
            default:
                return nil
            }
        }
        return nil
    }

    static func hex4(_ s: [Unicode.Scalar], _ p: Int) -> UInt32? {
        guard p + 4 <= s.count else { return nil }
        var v: UInt32 = 0
        for i in p..<(p + 4) {
            guard let d = Character(s[i]).hexDigitValue, s[i].isASCII else { return nil }
            v = v * 16 + UInt32(d)
        }
        return v
    }

    /// Skips one JSON value (iteratively, so deep nesting cannot exhaust the stack).
    static func skipValue(_ s: [Unicode.Scalar], _ p: inout Int, depth: Int) -> Bool {
        // Stack of open containers: true = object, false = array.
        var stack: [Bool] = []
        func ws() {
            while p < s.count, s[p] == " " || s[p] == "\t" || s[p] == "\n" || s[p] == "\r" { p += 1 }
        }
        while true {
            ws()
            guard p < s.count else { return false }
            // Parse one scalar value or open a container.
            let c = s[p]
            var opened = false
            switch c {
            case "\"":
                guard parseString(s, &p) != nil else { return false }
            case "[", "{":
                p += 1
                stack.append(c == "{")
                guard depth + stack.count <= maxDepth else { return false }
                ws()
                guard p < s.count else { return false }
                if (c == "[" && s[p] == "]") || (c == "{" && s[p] == "}") {
                    p += 1
                    stack.removeLast()
                } else {
                    opened = true
                    if c == "{" {
                        guard s[p] == "\"", parseString(s, &p) != nil else { return false }
                        ws()
                        guard p < s.count, s[p] == ":" else { return false }
                        p += 1
                    }
                }
            case "t": guard literal(s, &p, "true") else { return false }
            case "f": guard literal(s, &p, "false") else { return false }
            case "n": guard literal(s, &p, "null") else { return false }
            default:
                guard number(s, &p) else { return false }
            }
            if opened { continue }
            // After a value: close containers or move to the next element.
            while true {
                guard let top = stack.last else { return true }
                ws()
                guard p < s.count else { return false }
                if s[p] == "," {
                    p += 1
                    if top {
                        ws()
                        guard p < s.count, s[p] == "\"", parseString(s, &p) != nil else { return false }
                        ws()
                        guard p < s.count, s[p] == ":" else { return false }
                        p += 1
                    }
                    break
                }
                if (top && s[p] == "}") || (!top && s[p] == "]") {
                    p += 1
                    stack.removeLast()
                    continue
                }
                return false
            }
        }
    }

    static func literal(_ s: [Unicode.Scalar], _ p: inout Int, _ word: String) -> Bool {
        for c in word.unicodeScalars {
            guard p < s.count, s[p] == c else { return false }
            p += 1
        }
        return true
    }

    static func number(_ s: [Unicode.Scalar], _ p: inout Int) -> Bool {
        func digit(_ i: Int) -> Bool { i < s.count && s[i] >= "0" && s[i] <= "9" }
        if p < s.count, s[p] == "-" { p += 1 }
        guard digit(p) else { return false }
        if s[p] == "0" { p += 1 } else { while digit(p) { p += 1 } }
        if p < s.count, s[p] == "." {
            p += 1
            guard digit(p) else { return false }
            while digit(p) { p += 1 }
        }
        if p < s.count, s[p] == "e" || s[p] == "E" {
            p += 1
            if p < s.count, s[p] == "+" || s[p] == "-" { p += 1 }
            guard digit(p) else { return false }
            while digit(p) { p += 1 }
        }
        return true
    }
}
