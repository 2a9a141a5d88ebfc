import Foundation

/// A template error, positioned as Go's are: `template: :LINE:COL: message` (COL is the byte
/// offset in the line, as Go counts it).
public struct TemplateError: Error, CustomStringConvertible, Equatable {
    public var line: Int
    public var column: Int
    public var message: String
    public var description: String { "template: :\(line):\(column): \(message)" }
}

/// The subset of Go's `text/template` that docker's `--format` users write: text and actions,
/// `{{-`/`-}}` trimming, comments, fields (`.A.B`), `.`, `$` and variables (`$x := …`,
/// `range $i, $e := …`), string/raw/number/bool literals, pipelines (`|`) and parentheses,
/// `if`/`else if`/`else`, `range`/`else`, `with`/`else`, `end`, Go's functions `and or not len
/// index print printf println eq ne lt le gt ge`, and docker's `json join split upper lower
/// title truncate pad`. Output for a table (`table` prefix) is a `TemplateFormat` matter.
public struct GoTemplate: Sendable {
    let nodes: [Node]

    public init(_ source: String) throws(TemplateError) {
        var parser = Parser(tokens: try Lexer.lex(source))
        nodes = try parser.parseList(until: [])
    }

    /// Renders the template over `data` (`.` and `$`). With `headers`, renders a table's header
    /// row instead: every field chain gives the header of its last field (`headers[field]`, else
    /// the field's name in capitals), and `if`/`range`/`with` run their body once. With
    /// `fields`, a field of the data itself (`.X` at the top, `$.X`) must be one of them, as a
    /// Go struct's must: a typo is an error naming the fields, not `<no value>`.
    public func render(_ data: TemplateValue, headers: [String: String]? = nil, fields: Set<String>? = nil) throws(TemplateError) -> String {
        var e = Executor(root: data, headers: headers)
        e.fields = fields
        var out = ""
        try e.run(nodes, dot: data, into: &out)
        return out
    }
}

// MARK: - Syntax

struct Position: Sendable { var line: Int; var column: Int }

indirect enum Operand: Sendable {
    case dot
    case field([String])                 // .A.B
    case variable(String, [String])      // $x.A, "$" for the root
    case function(String)
    case literal(TemplateValue)
    case pipeline(Pipeline, [String])    // (…).A
}

struct Command: Sendable { var operands: [(Operand, Position)] }

struct Pipeline: Sendable {
    var declarations: [String] = []
    var commands: [Command]
    var position: Position
}

indirect enum Node: Sendable {
    case text(String)
    case action(Pipeline)
    case conditional(kind: String, Pipeline, [Node], [Node])   // if, range, with
}

enum Token: Equatable, Sendable {
    case text(String)
    case open, close                 // {{ }}
    case field(String), variable(String), identifier(String)
    case chain(String)               // .A.B right after ")"
    case string(String), number(String)
    case dot, pipe, leftParen, rightParen, declare, assign, comma
}

// MARK: - Lexer

enum Lexer {
    static func lex(_ source: String) throws(TemplateError) -> [(Token, Position)] {
        let s = Array(source.utf8)
        var tokens: [(Token, Position)] = []
        var i = 0
        var line = 1, lineStart = 0
        func pos(_ at: Int) -> Position { Position(line: line, column: at - lineStart) }
        func advanceLines(_ from: Int, _ to: Int) {
            for k in from..<to where s[k] == UInt8(ascii: "\n") { line += 1; lineStart = k + 1 }
        }
        func fail(_ at: Int, _ m: String) -> TemplateError { TemplateError(line: line, column: at - lineStart, message: m) }
        func starts(_ at: Int, _ text: String) -> Bool {
            let t = Array(text.utf8)
            return at + t.count <= s.count && Array(s[at..<at + t.count]) == t
        }
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }
        var trimNextText = false
        while i < s.count {
            // Text up to the next action.
            var j = i
            while j < s.count, !starts(j, "{{") { j += 1 }
            var text = Array(s[i..<j])
            if trimNextText { while let f = text.first, isSpace(f) { text.removeFirst() } }
            let trimBefore = starts(j, "{{- ") || starts(j, "{{-\t") || starts(j, "{{-\n")
            if trimBefore { while let l = text.last, isSpace(l) { text.removeLast() } }
            if !text.isEmpty { tokens.append((.text(String(decoding: text, as: UTF8.self)), pos(i))) }
            advanceLines(i, j)
            guard j < s.count else { break }
            let open = j
            i = open + (trimBefore ? 3 : 2)
            // A comment: {{/* … */}}.
            var k = i
            while k < s.count, isSpace(s[k]) { k += 1 }
            if starts(k, "/*") {
                var e = k + 2
                while e < s.count, !starts(e, "*/") { e += 1 }
                guard e < s.count else { throw fail(open, "unclosed comment") }
                e += 2
                while e < s.count, isSpace(s[e]) { e += 1 }
                let trimAfter = starts(e, "-}}")
                guard trimAfter || starts(e, "}}") else { throw fail(open, "comment ends before closing delimiter") }
                advanceLines(open, e)
                i = e + (trimAfter ? 3 : 2)
                trimNextText = trimAfter
                continue
            }
            tokens.append((.open, pos(open)))
            // Action body.
            var closed = false
            while i < s.count {
                let c = s[i]
                if isSpace(c) {
                    if (starts(i, " -}}") || starts(i, "\t-}}") || starts(i, "\n-}}")) {
                        advanceLines(i, i + 1)
                        tokens.append((.close, pos(i + 1))); i += 4; closed = true; trimNextText = true; break
                    }
                    advanceLines(i, i + 1); i += 1; continue
                }
                if starts(i, "}}") { tokens.append((.close, pos(i))); i += 2; closed = true; trimNextText = false; break }
                let start = i
                switch c {
                case UInt8(ascii: "|"): tokens.append((.pipe, pos(i))); i += 1
                case UInt8(ascii: "("): tokens.append((.leftParen, pos(i))); i += 1
                case UInt8(ascii: ")"): tokens.append((.rightParen, pos(i))); i += 1
                case UInt8(ascii: ","): tokens.append((.comma, pos(i))); i += 1
                case UInt8(ascii: "="): tokens.append((.assign, pos(i))); i += 1
                case UInt8(ascii: ":"):
                    guard starts(i, ":=") else { throw fail(i, "expected :=") }
                    tokens.append((.declare, pos(i))); i += 2
                case UInt8(ascii: "\""):
                    var value = [UInt8]()
                    i += 1
                    while true {
                        guard i < s.count else { throw fail(start, "unterminated quoted string") }
                        let ch = s[i]
                        if ch == UInt8(ascii: "\"") { i += 1; break }
                        if ch == UInt8(ascii: "\\"), i + 1 < s.count {
                            let n = s[i + 1]
                            switch n {
                            case UInt8(ascii: "n"): value.append(0x0A)
                            case UInt8(ascii: "t"): value.append(0x09)
                            case UInt8(ascii: "r"): value.append(0x0D)
                            case UInt8(ascii: "\\"), UInt8(ascii: "\""): value.append(n)
                            default: throw fail(i, "unknown escape sequence \\\(Character(UnicodeScalar(n)))")
                            }
                            i += 2
                            continue
                        }
                        value.append(ch); i += 1
                    }
                    tokens.append((.string(String(decoding: value, as: UTF8.self)), pos(start)))
                    advanceLines(start, i)   // a \n that --format turned into a newline
                case UInt8(ascii: "`"):
                    var e = i + 1
                    while e < s.count, s[e] != UInt8(ascii: "`") { e += 1 }
                    guard e < s.count else { throw fail(start, "unterminated raw quoted string") }
                    tokens.append((.string(String(decoding: s[(i + 1)..<e], as: UTF8.self)), pos(start)))
                    advanceLines(i, e)
                    i = e + 1
                case UInt8(ascii: "."):
                    let e = chainEnd(s, i)
                    if e == i + 1 {
                        tokens.append((.dot, pos(i)))
                    } else {
                        let name = String(decoding: s[(i + 1)..<e], as: UTF8.self)
                        tokens.append((i > 0 && s[i - 1] == UInt8(ascii: ")") ? .chain(name) : .field(name), pos(i)))
                    }
                    i = e
                case UInt8(ascii: "$"):
                    var e = i + 1
                    while e < s.count, isWord(s[e]) { e += 1 }
                    if e < s.count, s[e] == UInt8(ascii: ".") { e = chainEnd(s, e) }
                    tokens.append((.variable(String(decoding: s[i..<e], as: UTF8.self)), pos(i)))
                    i = e
                case UInt8(ascii: "-"), UInt8(ascii: "+"), 0x30...0x39:
                    var e = i + 1
                    while e < s.count, isWord(s[e]) || s[e] == UInt8(ascii: ".") { e += 1 }
                    tokens.append((.number(String(decoding: s[i..<e], as: UTF8.self)), pos(i)))
                    i = e
                default:
                    guard isWord(c) else { throw fail(i, "unexpected \"\(Character(UnicodeScalar(c)))\" in command") }
                    var e = i
                    while e < s.count, isWord(s[e]) { e += 1 }
                    tokens.append((.identifier(String(decoding: s[i..<e], as: UTF8.self)), pos(i)))
                    i = e
                }
            }
            guard closed else { throw fail(open, "unclosed action") }
        }
        return tokens
    }

    /// The end of `.A.B…` starting at the dot at `i`.
    static func chainEnd(_ s: [UInt8], _ i: Int) -> Int {
        var e = i + 1
        while e < s.count, isWord(s[e]) || (s[e] == UInt8(ascii: ".") && e + 1 < s.count && isWord(s[e + 1])) { e += 1 }
        return e
    }

    static func isWord(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "_") || c >= 0x80
    }
}

// MARK: - Parser

struct Parser {
    var tokens: [(Token, Position)]
    var index = 0

    var atEnd: Bool { index >= tokens.count }
    var position: Position { index < tokens.count ? tokens[index].1 : (tokens.last?.1 ?? Position(line: 1, column: 0)) }

    func fail(_ m: String, at p: Position? = nil) -> TemplateError {
        let p = p ?? position
        return TemplateError(line: p.line, column: p.column, message: m)
    }

    /// Nodes up to one of `terminators` (`end`, `else`), which is left unconsumed after `{{`.
    mutating func parseList(until terminators: Set<String>) throws(TemplateError) -> [Node] {
        var nodes: [Node] = []
        while !atEnd {
            let (token, p) = tokens[index]
            if case .text(let t) = token { nodes.append(.text(t)); index += 1; continue }
            guard token == .open else { throw fail("unexpected token", at: p) }
            if index + 1 < tokens.count, case .identifier(let word) = tokens[index + 1].0, ["end", "else", "if", "range", "with"].contains(word) {
                if word == "end" || word == "else" {
                    guard terminators.contains(word) else { throw fail("unexpected {{\(word)}}", at: tokens[index + 1].1) }
                    return nodes
                }
                index += 2
                nodes.append(try parseControl(word, at: tokens[index - 1].1))
                continue
            }
            index += 1
            let pipe = try parsePipeline(at: p, allowDeclarations: true)
            try expectClose()
            nodes.append(.action(pipe))
        }
        if !terminators.isEmpty { throw fail("unexpected EOF: missing {{end}}") }
        return nodes
    }

    mutating func expectClose() throws(TemplateError) {
        guard !atEnd, tokens[index].0 == .close else { throw fail("unexpected \(atEnd ? "EOF" : describe(tokens[index].0)) in action") }
        index += 1
    }

    mutating func parseControl(_ kind: String, at p: Position) throws(TemplateError) -> Node {
        let pipe = try parsePipeline(at: p, allowDeclarations: kind != "if")
        try expectClose()
        let body = try parseList(until: ["end", "else"])
        // At `{{` of end or else.
        index += 1
        guard case .identifier(let word) = tokens[index].0 else { throw fail("expected end or else") }
        index += 1
        var elseBody: [Node] = []
        if word == "else" {
            if !atEnd, case .identifier(let next) = tokens[index].0, next == "if" || next == "with" {
                // {{else if …}} is {{else}}{{if …}}…{{end}}, sharing the outer {{end}}.
                let p2 = tokens[index].1
                index += 1
                elseBody = [try parseControl(next, at: p2)]
                return .conditional(kind: kind, pipe, body, elseBody)
            }
            try expectClose()
            elseBody = try parseList(until: ["end"])
            index += 2
        }
        try expectClose()
        return .conditional(kind: kind, pipe, body, elseBody)
    }

    func describe(_ t: Token) -> String {
        switch t {
        case .close: return "\"}}\""
        case .rightParen: return "\")\""
        case .pipe: return "\"|\""
        case .identifier(let w): return "<\(w)>"
        case .field(let f): return "<.\(f)>"
        default: return "\(t)"
        }
    }

    mutating func parsePipeline(at p: Position, allowDeclarations: Bool) throws(TemplateError) -> Pipeline {
        var pipe = Pipeline(commands: [], position: p)
        // $x := …, $i, $e := …
        if allowDeclarations, !atEnd, case .variable = tokens[index].0 {
            var look = index, names: [String] = []
            while look < tokens.count, case .variable(let v) = tokens[look].0 {
                names.append(v)
                look += 1
                if look < tokens.count, tokens[look].0 == .comma { look += 1; continue }
                break
            }
            if look < tokens.count, tokens[look].0 == .declare || tokens[look].0 == .assign {
                pipe.declarations = names
                index = look + 1
            }
        }
        while true {
            var command = Command(operands: [])
            while !atEnd {
                let (t, tp) = tokens[index]
                if t == .close || t == .pipe || t == .rightParen { break }
                command.operands.append((try parseOperand(), tp))
            }
            guard !command.operands.isEmpty else { throw fail(pipe.commands.isEmpty ? "missing value for command" : "missing command after |") }
            pipe.commands.append(command)
            if !atEnd, tokens[index].0 == .pipe { index += 1; continue }
            break
        }
        return pipe
    }

    /// The `.A.B` right after a parenthesized pipeline.
    mutating func fieldChain() -> [String] {
        guard !atEnd, case .chain(let f) = tokens[index].0 else { return [] }
        index += 1
        return f.split(separator: ".").map(String.init)
    }

    mutating func parseOperand() throws(TemplateError) -> Operand {
        let (t, p) = tokens[index]
        index += 1
        switch t {
        case .dot: return .dot
        case .field(let f): return .field(f.split(separator: ".").map(String.init))
        case .variable(let v):
            let parts = v.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            return .variable(parts[0], Array(parts.dropFirst()))
        case .string(let s): return .literal(.string(s))
        case .number(let n):
            if let i = Int64(n) { return .literal(.int(i)) }
            if let d = Double(n) { return .literal(.double(d)) }
            throw fail("bad number syntax: \"\(n)\"", at: p)
        case .identifier(let w):
            switch w {
            case "true": return .literal(.bool(true))
            case "false": return .literal(.bool(false))
            case "nil": return .literal(.null)
            default:
                guard Functions.names.contains(w) else { throw fail("function \"\(w)\" not defined", at: p) }
                return .function(w)
            }
        case .leftParen:
            let inner = try parsePipeline(at: p, allowDeclarations: false)
            guard !atEnd, tokens[index].0 == .rightParen else { throw fail("unclosed left paren", at: p) }
            index += 1
            return .pipeline(inner, fieldChain())
        default:
            throw fail("unexpected \(describe(t)) in operand", at: p)
        }
    }
}

// MARK: - Execution

struct Executor {
    let root: TemplateValue
    let headers: [String: String]?
    var scopes: [[String: TemplateValue]] = [[:]]
    /// The root's field names (checked when set), and whether `.` is the root now.
    var fields: Set<String>?
    var dotIsRoot = true

    init(root: TemplateValue, headers: [String: String]?) {
        self.root = root
        self.headers = headers
        scopes = [["$": root]]
    }

    func fail(_ p: Position, _ m: String) -> TemplateError { TemplateError(line: p.line, column: p.column, message: m) }

    mutating func run(_ nodes: [Node], dot: TemplateValue, into out: inout String) throws(TemplateError) {
        for node in nodes {
            switch node {
            case .text(let t): out += t
            case .action(let pipe):
                let v = try evaluate(pipe, dot: dot)
                if pipe.declarations.isEmpty { out += v.printed }
            case .conditional(let kind, let pipe, let body, let elseBody):
                scopes.append([:])
                defer { scopes.removeLast() }
                let v = try evaluate(pipe, dot: dot, declaring: kind != "range")
                if headers != nil {
                    try run(body, dot: v, into: &out)
                    continue
                }
                switch kind {
                case "if":
                    try run(v.isTrue ? body : elseBody, dot: dot, into: &out)
                case "with":
                    let wasRoot = dotIsRoot
                    if v.isTrue { dotIsRoot = false }
                    defer { dotIsRoot = wasRoot }
                    try run(v.isTrue ? body : elseBody, dot: v.isTrue ? v : dot, into: &out)
                default:
                    let items: [(TemplateValue, TemplateValue)]
                    switch v {
                    case .array(let a): items = a.enumerated().map { (.int(Int64($0.offset)), $0.element) }
                    case .object(let o): items = o.keys.sorted().map { (.string($0), o[$0]!) }
                    case .int(let n) where n >= 0: items = (0..<n).map { (.int($0), .int($0)) }
                    case .null, .missing: items = []
                    default: throw fail(pipe.position, "range can't iterate over \(v.printed)")
                    }
                    if items.isEmpty { try run(elseBody, dot: dot, into: &out) }
                    for (key, element) in items {
                        switch pipe.declarations.count {
                        case 1: scopes[scopes.count - 1][pipe.declarations[0]] = element
                        case 2: scopes[scopes.count - 1][pipe.declarations[0]] = key; scopes[scopes.count - 1][pipe.declarations[1]] = element
                        default: break
                        }
                        let wasRoot = dotIsRoot
                        dotIsRoot = false
                        defer { dotIsRoot = wasRoot }
                        try run(body, dot: element, into: &out)
                    }
                }
            }
        }
    }

    mutating func evaluate(_ pipe: Pipeline, dot: TemplateValue, declaring: Bool = true) throws(TemplateError) -> TemplateValue {
        var value: TemplateValue? = nil
        for command in pipe.commands {
            value = try evaluate(command, dot: dot, piped: value)
        }
        let result = value ?? .missing
        if declaring, let name = pipe.declarations.first {
            if let existing = scopes.lastIndex(where: { $0[name] != nil }), pipe.declarations.count == 1, scopes[scopes.count - 1][name] == nil, existing < scopes.count - 1 {
                scopes[existing][name] = result
            } else {
                scopes[scopes.count - 1][name] = result
            }
        }
        return result
    }

    mutating func evaluate(_ command: Command, dot: TemplateValue, piped: TemplateValue?) throws(TemplateError) -> TemplateValue {
        let (first, p) = command.operands[0]
        if case .function(let name) = first {
            var args: [TemplateValue] = []
            for (operand, op) in command.operands.dropFirst() { args.append(try value(of: operand, at: op, dot: dot)) }
            if let piped { args.append(piped) }
            do {
                return try Functions.call(name, args, headerMode: headers != nil)
            } catch {
                throw fail(p, "error calling \(name): \(error.text)")
            }
        }
        guard command.operands.count == 1, piped == nil else {
            throw fail(p, "can't give argument to non-function \(describe(first))")
        }
        return try value(of: first, at: p, dot: dot)
    }

    func describe(_ o: Operand) -> String {
        switch o {
        case .dot: return "."
        case .field(let c): return "." + c.joined(separator: ".")
        case .variable(let v, let c): return ([v] + c).joined(separator: ".")
        case .literal(let v): return v.printed
        default: return "(…)"
        }
    }

    mutating func value(of operand: Operand, at p: Position, dot: TemplateValue) throws(TemplateError) -> TemplateValue {
        switch operand {
        case .dot: return dot
        case .literal(let v): return v
        case .function(let name):
            do { return try Functions.call(name, [], headerMode: headers != nil) }
            catch { throw fail(p, "error calling \(name): \(error.text)") }
        case .field(let chain): return try walk(dot, chain, at: p, fromRoot: dotIsRoot)
        case .variable(let name, let chain):
            guard let v = scopes.last(where: { $0[name] != nil })?[name] else { throw fail(p, "undefined variable \"\(name)\"") }
            return try walk(v, chain, at: p, fromRoot: name == "$")
        case .pipeline(let inner, let chain):
            return try walk(try evaluate(inner, dot: dot, declaring: false), chain, at: p)
        }
    }

    func walk(_ start: TemplateValue, _ chain: [String], at p: Position, fromRoot: Bool = false) throws(TemplateError) -> TemplateValue {
        if fromRoot, let fields, let first = chain.first, !fields.contains(first) {
            throw fail(p, "can't evaluate field \(first): the fields are \(fields.sorted().joined(separator: ", "))")
        }
        if let headers, let last = chain.last { return .string(headers[last] ?? last.uppercased()) }
        // A field the data has but its JSON left out (a nil optional) reads as docker's empty value.
        if fromRoot, fields != nil, chain.count == 1, case .object(let o) = start, o[chain[0]] == nil { return .string("") }
        var v = start
        for (n, name) in chain.enumerated() {
            switch v {
            case .object(let o): v = o[name] ?? .missing
            case .missing, .null: return .missing
            default:
                throw fail(p, "can't evaluate field \(name) in \(n == 0 ? "." : "." + chain[..<n].joined(separator: ".")) (\(v.printed))")
            }
        }
        return v
    }
}

// MARK: - Functions

struct FunctionError: Error { var text: String }

enum Functions {
    static let names: Set<String> = [
        "and", "or", "not", "len", "index", "print", "printf", "println", "eq", "ne", "lt", "le", "gt", "ge",
        "json", "join", "split", "upper", "lower", "title", "truncate", "pad",
    ]

    static func call(_ name: String, _ a: [TemplateValue], headerMode: Bool) throws(FunctionError) -> TemplateValue {
        func count(_ n: Int) throws(FunctionError) {
            guard a.count == n else { throw FunctionError(text: "wrong number of args for \(name): want \(n) got \(a.count)") }
        }
        func string(_ v: TemplateValue) throws(FunctionError) -> String {
            guard case .string(let s) = v else { throw FunctionError(text: "expected a string, got \(v.printed)") }
            return s
        }
        func int(_ v: TemplateValue) throws(FunctionError) -> Int64 {
            switch v {
            case .int(let i): return i
            case .double(let d) where d == d.rounded(): return Int64(d)
            default: throw FunctionError(text: "expected an integer, got \(v.printed)")
            }
        }
        switch name {
        case "and":
            guard !a.isEmpty else { throw FunctionError(text: "wrong number of args for and: want at least 1 got 0") }
            return a.first { !$0.isTrue } ?? a.last!
        case "or":
            guard !a.isEmpty else { throw FunctionError(text: "wrong number of args for or: want at least 1 got 0") }
            return a.first { $0.isTrue } ?? a.last!
        case "not":
            try count(1)
            return .bool(!a[0].isTrue)
        case "len":
            try count(1)
            switch a[0] {
            case .array(let x): return .int(Int64(x.count))
            case .object(let x): return .int(Int64(x.count))
            case .string(let x): return .int(Int64(x.utf8.count))
            default: throw FunctionError(text: "len of \(a[0].printed)")
            }
        case "index":
            guard var v = a.first else { throw FunctionError(text: "wrong number of args for index: want at least 1 got 0") }
            if headerMode { return v }
            for key in a.dropFirst() {
                switch (v, key) {
                case (.array(let x), _):
                    let i = try int(key)
                    guard i >= 0, i < x.count else { throw FunctionError(text: "index out of range: \(i)") }
                    v = x[Int(i)]
                case (.object(let o), .string(let k)): v = o[k] ?? .string("")
                case (.missing, _), (.null, _): throw FunctionError(text: "index of untyped nil")
                default: throw FunctionError(text: "can't index item of type \(v.printed) with \(key.printed)")
                }
            }
            return v
        case "print":
            var out = ""
            for (i, v) in a.enumerated() {
                if i > 0, !(isString(a[i - 1]) || isString(v)) { out += " " }
                out += v.printed
            }
            return .string(out)
        case "println":
            return .string(a.map(\.printed).joined(separator: " ") + "\n")
        case "printf":
            guard let f = a.first else { throw FunctionError(text: "wrong number of args for printf: want at least 1 got 0") }
            return .string(try printf(try string(f), Array(a.dropFirst())))
        case "eq":
            guard a.count >= 2 else { throw FunctionError(text: "missing argument for comparison") }
            return .bool(a.dropFirst().contains { equal(a[0], $0) })
        case "ne":
            try count(2)
            return .bool(!equal(a[0], a[1]))
        case "lt", "le", "gt", "ge":
            try count(2)
            let order: ComparisonResult
            switch (a[0], a[1]) {
            case (.string(let x), .string(let y)): order = x < y ? .orderedAscending : x == y ? .orderedSame : .orderedDescending
            default:
                guard let x = number(a[0]), let y = number(a[1]) else { throw FunctionError(text: "incompatible types for comparison") }
                order = x < y ? .orderedAscending : x == y ? .orderedSame : .orderedDescending
            }
            switch name {
            case "lt": return .bool(order == .orderedAscending)
            case "le": return .bool(order != .orderedDescending)
            case "gt": return .bool(order == .orderedDescending)
            default: return .bool(order != .orderedAscending)
            }
        case "json":
            try count(1)
            return .string(a[0].json)
        case "join":
            try count(2)
            if headerMode, case .string = a[0] { return a[0] }
            guard case .array(let items) = a[0] else {
                if case .missing = a[0] { return .string("") }
                if case .null = a[0] { return .string("") }
                throw FunctionError(text: "join needs a list, got \(a[0].printed)")
            }
            return .string(items.map(\.printed).joined(separator: try string(a[1])))
        case "split":
            try count(2)
            return .array(try string(a[0]).components(separatedBy: try string(a[1])).map { .string($0) })
        case "upper":
            try count(1)
            return .string(a[0].printed.uppercased())
        case "lower":
            try count(1)
            return .string(a[0].printed.lowercased())
        case "title":
            try count(1)
            return .string(a[0].printed.split(separator: " ", omittingEmptySubsequences: false).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " "))
        case "truncate":
            try count(2)
            let s = a[0].printed, n = Int(try int(a[1]))
            return .string(s.count > n ? String(s.prefix(max(0, n))) : s)
        case "pad":
            try count(3)
            return .string(String(repeating: " ", count: Int(max(0, try int(a[1])))) + a[0].printed + String(repeating: " ", count: Int(max(0, try int(a[2])))))
        default:
            throw FunctionError(text: "function \"\(name)\" not defined")
        }
    }

    static func isString(_ v: TemplateValue) -> Bool { if case .string = v { return true }; return false }

    static func number(_ v: TemplateValue) -> Double? {
        switch v {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    static func equal(_ x: TemplateValue, _ y: TemplateValue) -> Bool {
        if let a = number(x), let b = number(y) { return a == b }
        return x == y
    }

    /// `%v %s %d %q %t %%`, with an optional width (`%-20s`, `%5d`).
    static func printf(_ format: String, _ args: [TemplateValue]) throws(FunctionError) -> String {
        var out = ""
        var next = 0
        var chars = format.makeIterator()
        while let c = chars.next() {
            guard c == "%" else { out.append(c); continue }
            var spec = ""
            var verb: Character? = nil
            while let d = chars.next() {
                if d.isNumber || d == "-" { spec.append(d); continue }
                verb = d
                break
            }
            guard let verb else { out += "%!(NOVERB)"; break }
            if verb == "%" { out += "%"; continue }
            guard next < args.count else { out += "%!\(verb)(MISSING)"; continue }
            let v = args[next]
            next += 1
            var text: String
            switch verb {
            case "q": text = TemplateValue.quoted(v.printed)
            case "d", "s", "v", "t": text = v.printed
            default: text = "%!\(verb)(\(v.printed))"
            }
            let left = spec.hasPrefix("-")
            if let width = Int(spec.drop(while: { $0 == "-" })), text.count < width {
                let padding = String(repeating: " ", count: width - text.count)
                text = left ? text + padding : padding + text
            }
            out += text
        }
        if next < args.count { out += "%!(EXTRA " + args[next...].map(\.printed).joined(separator: ", ") + ")" }
        return out
    }
}
