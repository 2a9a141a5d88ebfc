/// A heredoc attached to an instruction (`RUN <<EOF`, `COPY <<a.txt <<b.txt /dst/`).
public struct Heredoc: Sendable, Equatable, Hashable {
    /// The delimiter word with quotes removed (`EOF` for `<<"EOF"`).
    public var name: String
    /// The file descriptor prefix (`3<<EOF` → 3), 0 when absent.
    public var fileDescriptor: Int
    /// False when any part of the delimiter was quoted: the body is then taken literally.
    public var expand: Bool
    /// `<<-`: leading tabs are stripped from the body at build time (see `chompedContent`).
    public var chomp: Bool
    /// The raw body: every line with its original line ending, tabs kept even for `<<-`.
    public var content: String

    public init(name: String, fileDescriptor: Int = 0, expand: Bool = true, chomp: Bool = false, content: String = "") {
        self.name = name
        self.fileDescriptor = fileDescriptor
        self.expand = expand
        self.chomp = chomp
        self.content = content
    }

    /// The body with leading tabs removed from each line when `chomp` is set.
    public var effectiveContent: String { chomp ? Heredoc.chompLeadingTabs(content) : content }

    static func chompLeadingTabs(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        var atLineStart = true
        for c in s.unicodeScalars {
            if atLineStart && c == "\t" { continue }
            atLineStart = c == "\n"
            out.append(c)
        }
        return String(out)
    }
}

/// One instruction of the raw syntax tree, as BuildKit's parser produces it (before variable
/// expansion and before instruction validation).
public struct Node: Sendable, Equatable {
    /// The keyword as written (`RUN`, `run`, `Copy`, or an unknown word).
    public var keyword: String
    /// Builder flags as `--name=value` / `--name`, quotes and escapes removed.
    public var flags: [String]
    /// The argument list as BuildKit's AST holds it. ENV and LABEL hold key, value and
    /// separator triples (separator `=` or `""` for the legacy `ENV k v` form); see `keyValuePairs`.
    public var values: [String]
    /// True when the arguments were a JSON string array (exec form).
    public var isJSON: Bool
    /// Heredoc bodies, in order of appearance (for ONBUILD they belong to the trigger).
    public var heredocs: [Heredoc]
    /// The logical line after joining continuations (what BuildKit calls `Original`).
    public var original: String
    /// 1-based physical line of the keyword.
    public var startLine: Int
    /// 1-based last physical line (last continuation line or heredoc terminator).
    public var endLine: Int
    /// Comment lines directly above the instruction (without `#`), for doc comments and lint.
    public var comments: [String]
    /// ONBUILD's trigger (0 or 1 element; an array because a struct cannot hold itself).
    var triggerStorage: [Node]
    /// True when BuildKit's parser ignored the arguments (unknown instruction).
    public var isUnknown: Bool

    public init(keyword: String, flags: [String] = [], values: [String] = [], isJSON: Bool = false,
                heredocs: [Heredoc] = [], original: String = "", startLine: Int = 0, endLine: Int = 0,
                comments: [String] = [], trigger: Node? = nil, isUnknown: Bool = false) {
        self.keyword = keyword
        self.flags = flags
        self.values = values
        self.isJSON = isJSON
        self.heredocs = heredocs
        self.original = original
        self.startLine = startLine
        self.endLine = endLine
        self.comments = comments
        self.triggerStorage = trigger.map { [$0] } ?? []
        self.isUnknown = isUnknown
    }

    /// The keyword in lower case (`run`), the form to switch on.
    public var command: String { keyword.lowercased() }

    /// ONBUILD's trigger instruction.
    public var trigger: Node? {
        get { triggerStorage.first }
        set { triggerStorage = newValue.map { [$0] } ?? [] }
    }

    /// The argument list with ENV/LABEL separators dropped, and ONBUILD flattened to the
    /// trigger's values (the `value` of `slipway debug parse --json`).
    public var arguments: [String] {
        switch command {
        case "env", "label":
            return keyValuePairs.flatMap { [$0.key, $0.value] }
        case "onbuild":
            return trigger?.arguments ?? []
        default:
            return values
        }
    }

    /// ENV/LABEL pairs, raw (quotes kept; removed at expansion time).
    public var keyValuePairs: [(key: String, value: String, legacy: Bool)] {
        var out: [(String, String, Bool)] = []
        var i = 0
        while i + 3 <= values.count {
            out.append((values[i], values[i + 1], values[i + 2].isEmpty))
            i += 3
        }
        return out
    }

    /// The full original text span in the file is `startLine...endLine`.
    public var lines: ClosedRange<Int> { startLine...max(startLine, endLine) }
}

/// A parser directive from the top of the file (`# syntax=`, `# escape=`, `# check=`).
public struct Directive: Sendable, Equatable {
    public var name: String
    public var value: String
    public var line: Int
}

/// A non-fatal finding of the parser (BuildKit reports the same ones).
public struct ParseWarning: Sendable, Equatable {
    public var message: String
    public var line: Int
}

/// A parsed Dockerfile: the instructions in file order plus what the directives said.
public struct ParsedDockerfile: Sendable {
    /// The file name used in error messages.
    public var fileName: String
    public var nodes: [Node]
    public var directives: [Directive]
    /// `\` or the backtick.
    public var escapeToken: Unicode.Scalar
    public var warnings: [ParseWarning]

    /// `# syntax=` value, if any.
    public var syntax: String? { directives.first { $0.name == "syntax" }?.value }
    /// `# check=` value, if any.
    public var check: String? { directives.first { $0.name == "check" }?.value }

    /// A lexer configured with this file's escape token.
    public var lexer: ShellLexer { ShellLexer(escape: escapeToken) }
}
