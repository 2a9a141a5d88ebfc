import Testing
@testable import OCI

/// Issue 18 #10: untrusted names are printed with control characters escaped, through one
/// helper (`DisplayText`), so a tar entry name cannot set the terminal title or rewrite a line.
@Suite struct DisplayTextTests {
    @Test func controlCharactersAreEscaped() {
        #expect(DisplayText.escaped("usr/bin/ls") == "usr/bin/ls")
        #expect(DisplayText.escaped("naïve/日本語") == "naïve/日本語")
        #expect(DisplayText.escaped("a\u{1B}]0;owned\u{07}b") == "a\\x1b]0;owned\\x07b")
        #expect(DisplayText.escaped("x\r\nerror: fake\t") == "x\\r\\nerror: fake\\t")
        #expect(DisplayText.escaped("\u{0}\u{7F}\u{9B}31m") == "\\x00\\x7f\\u{009b}31m")
        #expect(DisplayText.escaped("evil\u{202E}txt.exe") == "evil\\u{202e}txt.exe")
        // Whole messages keep their own line breaks; a carriage return is still escaped.
        #expect(DisplayText.escaped("line 1\n\tline 2\r", keepLineBreaks: true) == "line 1\n\tline 2\\r")
    }

    @Test func archiveErrorsEscapeEntryNames() {
        let e = ArchiveError.unsafePath(entry: "../\u{1B}[2K\rok", reason: "its path contains a '..' component")
        #expect(e.description == "refusing tar entry '../\\x1b[2K\\rok': its path contains a '..' component")
        #expect(!e.description.unicodeScalars.contains { $0.value < 0x20 })
    }

    @Test func longWordsAreAbbreviatedOnce() {
        let word = String(repeating: "ab", count: 4_500)
        let shown = DisplayText.abbreviated("Dockerfile:2: \(word): unknown instruction: \(word)")
        #expect(shown == "Dockerfile:2: " + String(word.prefix(80)) + "…(8921 more characters) unknown instruction: "
                + String(word.prefix(80)) + "…(8920 more characters)")
        // Words up to the limit, short text and line breaks are left alone.
        let limit = String(repeating: "x", count: 200)
        #expect(DisplayText.abbreviated("a \(limit)\nb") == "a \(limit)\nb")
        #expect(DisplayText.abbreviated("short") == "short")
        #expect(DisplayText.abbreviated(String(repeating: "y", count: 201)) == String(repeating: "y", count: 80) + "…(121 more characters)")
    }
}
