/// Untrusted text (tar entry names, link targets, tags and ids from archives and registries,
/// Dockerfile words) made safe to print on a terminal: control characters become visible
/// escapes, so a name can neither move the cursor, rewrite the line or the window title, nor
/// start a fake line of its own. The one helper for every error and progress line that can
/// carry such a string (issue 18 #10).
public enum DisplayText {
    /// `text` with C0 controls, DEL, C1 controls and the bidirectional overrides escaped as
    /// `\n`, `\r`, `\t`, `\x1b`, `\u{202e}`…; printable text (any script) is unchanged.
    /// `keepLineBreaks` leaves `\n` and `\t` alone, for whole messages that are multi-line by
    /// design (the names inside them are escaped where they are embedded).
    public static func escaped(_ text: String, keepLineBreaks: Bool = false) -> String {
        // Fast path: nearly every name is plain printable ASCII.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 >= 0x7F }) { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            let v = scalar.value
            switch v {
            case 0x0A where keepLineBreaks, 0x09 where keepLineBreaks:
                out.unicodeScalars.append(scalar)
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x00..<0x20, 0x7F:
                out += "\\x" + hex(v, digits: 2)
            case 0x80..<0xA0, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069:
                out += "\\u{" + hex(v, digits: 4) + "}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `text` with every word (a run without spaces or line breaks) longer than `longestWord`
    /// characters cut to its first `keep` and a count of the rest: a Dockerfile word or an image
    /// name of 9,000 characters is quoted in an error once, and short (issue 18 #10).
    public static func abbreviated(_ text: String, longestWord: Int = 200, keep: Int = 80) -> String {
        guard text.utf8.count > longestWord else { return text }
        var out = String.UnicodeScalarView()
        var word = 0
        var dropped = 0
        func endWord() {
            if dropped > 0 { out.append(contentsOf: "…(\(dropped) more characters)".unicodeScalars) }
            word = 0
            dropped = 0
        }
        // A word is cut only once it is known to be too long, so count ahead lazily: keep the
        // first `keep` scalars, hold back the rest until the word ends or passes the limit.
        var held = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == " " || scalar == "\n" || scalar == "\t" {
                out.append(contentsOf: held)
                held.removeAll()
                endWord()
                out.append(scalar)
                continue
            }
            word += 1
            if word <= keep {
                out.append(scalar)
            } else if word <= longestWord {
                held.append(scalar)
            } else {
                if !held.isEmpty { dropped += held.count; held.removeAll() }
                dropped += 1
            }
        }
        out.append(contentsOf: held)
        endWord()
        return String(out)
    }

    private static func hex(_ v: UInt32, digits: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, digits - s.count)) + s
    }
}
