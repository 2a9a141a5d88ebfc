import ArgumentParser
import Dockerfile
import Foundation

/// `slipway debug parse [--json] FILE`: BuildKit's raw syntax tree for a Dockerfile.
struct DebugParse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Print a Dockerfile's raw syntax tree (BuildKit's AST dump, or JSON with --json)."
    )

    @Flag(name: .long, help: "Print JSON: instructions, stages and stage references.")
    var json = false

    @Argument(help: "The Dockerfile to parse ('-' reads standard input).")
    var file: String

    @Flag(name: .customLong("current"),
          help: "Follow current BuildKit where it differs from the v0.12.5 reference (exec-form trailing text, heredoc words).")
    var current = false

    func run() async throws {
        let bytes: [UInt8]
        do {
            bytes = try DockerfileCLI.readInput(file)
        } catch {
            DockerfileCLI.fail("cannot read \(file): \(error.localizedDescription)")
        }
        let parsed: ParsedDockerfile
        do {
            parsed = try Dockerfile.parse(bytes: bytes, fileName: file == "-" ? "Dockerfile" : file,
                                          rules: current ? .current : .v0_12)
        } catch {
            if json {
                print(ParserJSON.object([("error", .string(error.description))]).rendered())
            }
            DockerfileCLI.fail(error.description)
        }
        if !json {
            print(parsed.dump())
            return
        }
        DebugParse.json(parsed).print()
    }

    static func json(_ parsed: ParsedDockerfile) -> ParserJSON {
        func node(_ n: Node) -> ParserJSON {
            .object([
                ("cmd", .string(n.keyword)),
                ("start_line", .int(n.startLine)),
                ("end_line", .int(n.endLine)),
                ("flags", .array(n.flags.map(ParserJSON.string))),
                ("value", .array(n.arguments.map(ParserJSON.string))),
                ("sub_cmd", n.trigger.map { .string($0.keyword) } ?? .null),
                ("json", .bool(n.trigger?.isJSON ?? n.isJSON)),
                ("heredocs", .array(n.heredocs.map { h in
                    .object([("name", .string(h.name)), ("content", .string(h.content))])
                })),
            ])
        }
        let stages = parsed.syntaxStages.map { s in
            ParserJSON.object([
                ("index", .int(s.index)),
                ("name", s.name.map(ParserJSON.string) ?? .null),
                ("base", .string(s.base)),
                ("platform", s.platform.map(ParserJSON.string) ?? .null),
                ("instruction_count", .int(s.instructionCount)),
            ])
        }
        let refs = parsed.syntaxReferences.map { r in
            ParserJSON.object([
                ("kind", .string(r.kind.rawValue)),
                ("stage", .int(r.stage)),
                ("line", .int(r.line)),
                ("ref", .string(r.ref)),
                ("target_kind", .string(r.targetKind.rawValue)),
                ("target", r.target.map(ParserJSON.int) ?? .null),
            ])
        }
        return .object([
            ("instructions", .lazyArray(count: parsed.nodes.count) { node(parsed.nodes[$0]) }),
            ("stages", .array(stages)),
            ("references", .array(refs)),
        ])
    }
}

/// Shared helpers of the Dockerfile commands.
enum DockerfileCLI {
    static func readInput(_ path: String) throws -> [UInt8] {
        if path == "-" {
            return Array(FileHandle.standardInput.readDataToEndOfFile())
        }
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Prints `error: message` on stderr and exits 1.
    static func fail(_ message: String) -> Never {
        printError(message)
        exit(1)
    }
}

/// A small ordered JSON value for the Dockerfile commands' output.
enum ParserJSON {
    case null
    case bool(Bool)
    case int(Int)
    case string(String)
    case array([ParserJSON])
    case object([(String, ParserJSON)])
    /// An array of `count` values made one at a time while rendering: `debug parse --json` of a
    /// huge Dockerfile never holds the JSON of every instruction at once.
    case lazyArray(count: Int, element: (Int) -> ParserJSON)

    func rendered(indent: Int = 0) -> String {
        var out = ""
        render(indent: indent) { out += $0 }
        return out
    }

    /// Writes the rendering to standard output in 64 KiB pieces.
    func print() {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 16)
        func flush() {
            buffer.withUnsafeBytes { b in
                var done = 0
                while done < b.count {
                    let n = write(1, b.baseAddress! + done, b.count - done)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { return }
                    done += n
                }
            }
            buffer.removeAll(keepingCapacity: true)
        }
        render(indent: 0) { piece in
            buffer.append(contentsOf: piece.utf8)
            if buffer.count >= 1 << 16 { flush() }
        }
        buffer.append(UInt8(ascii: "\n"))
        flush()
    }

    /// Renders piece by piece into `emit` (two-space indentation; arrays of strings on one line).
    func render(indent: Int, _ emit: (String) -> Void) {
        let pad = String(repeating: "  ", count: indent + 1)
        let close = String(repeating: "  ", count: indent)
        switch self {
        case .null: emit("null")
        case .bool(let b): emit(b ? "true" : "false")
        case .int(let i): emit(String(i))
        case .string(let s): emit(ParserJSON.quote(s))
        case .array(let items):
            if items.isEmpty { emit("[]"); return }
            if items.allSatisfy({ if case .string = $0 { return true } else { return false } }) {
                emit("[" + items.map { $0.rendered() }.joined(separator: ", ") + "]")
                return
            }
            Self.lines(items.count, pad: pad, close: close, open: "[", end: "]", emit) { i in
                items[i].render(indent: indent + 1, emit)
            }
        case .lazyArray(let count, let element):
            if count == 0 { emit("[]"); return }
            Self.lines(count, pad: pad, close: close, open: "[", end: "]", emit) { i in
                element(i).render(indent: indent + 1, emit)
            }
        case .object(let fields):
            if fields.isEmpty { emit("{}"); return }
            Self.lines(fields.count, pad: pad, close: close, open: "{", end: "}", emit) { i in
                emit(ParserJSON.quote(fields[i].0) + ": ")
                fields[i].1.render(indent: indent + 1, emit)
            }
        }
    }

    /// `open`, then each item on its own line after `pad`, comma-separated, then `close` + `end`.
    private static func lines(_ count: Int, pad: String, close: String, open: String, end: String,
                              _ emit: (String) -> Void, item: (Int) -> Void) {
        emit(open + "\n")
        for i in 0..<count {
            emit(pad)
            item(i)
            emit(i == count - 1 ? "\n" : ",\n")
        }
        emit(close + end)
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 || c.value == 0x7F {
                    let h = String(c.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }
}

/// `slipway debug expand`: BuildKit's variable expansion of words, one per line on stdin
/// (or given as arguments), printed as JSON `{"word": ..., "words": [...]}` or `{"error": ...}`.
struct DebugExpand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expand",
        abstract: "Expand Dockerfile words with BuildKit's shell rules (one JSON line per word)."
    )

    @Option(name: .customLong("env"), help: "A variable KEY=VALUE (repeatable).")
    var env: [String] = []

    @Option(help: "The escape character: \\ or `.")
    var escape: String = "\\"

    @Argument(help: "Words to expand (default: read lines from standard input).")
    var words: [String] = []

    func run() async throws {
        let environment = Environment(keyValueStrings: env)
        guard let esc = escape.unicodeScalars.first, escape.unicodeScalars.count == 1 else {
            DockerfileCLI.fail("--escape takes one character")
        }
        let lexer = ShellLexer(escape: esc)
        var input = words
        if input.isEmpty {
            while let line = readLine(strippingNewline: true) { input.append(line) }
        }
        for w in input {
            let out: ParserJSON
            do {
                let r = try lexer.process(w, env: environment)
                out = .object([("word", .string(r.result)), ("words", .array(r.words.map(ParserJSON.string)))])
            } catch {
                out = .object([("error", .string(error.message))])
            }
            print(out.rendered().replacingOccurrences(of: "\n", with: ""))
        }
    }
}

/// `slipway debug ignore -i .dockerignore PATH...`: which context paths a `.dockerignore`
/// keeps, with BuildKit's matching rules.
struct DebugIgnore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ignore",
        abstract: "Show whether context paths are included or excluded by a .dockerignore file."
    )

    @Option(name: [.short, .customLong("ignore-file")], help: "The ignore file (default: .dockerignore).")
    var ignoreFile: String = ".dockerignore"

    @Argument(help: "Paths relative to the build context. Without paths, reads JSON lines {\"ignore\": TEXT, \"paths\": [...]} from stdin.")
    var paths: [String] = []

    func run() async throws {
        if paths.isEmpty {
            while let line = readLine(strippingNewline: true) {
                guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let text = obj["ignore"] as? String, let ps = obj["paths"] as? [String] else {
                    print("\"error\"")
                    continue
                }
                guard let m = try? IgnoreMatcher(ignoreFile: text) else {
                    print("\"error\"")
                    continue
                }
                print("[" + ps.map { m.includes($0) ? "true" : "false" }.joined(separator: ",") + "]")
            }
            return
        }
        let text: String
        do {
            text = String(decoding: try DockerfileCLI.readInput(ignoreFile), as: UTF8.self)
        } catch {
            DockerfileCLI.fail("cannot read \(ignoreFile): \(error.localizedDescription)")
        }
        let matcher: IgnoreMatcher
        do {
            matcher = try IgnoreMatcher(ignoreFile: text)
        } catch {
            DockerfileCLI.fail("\(ignoreFile): \(error.message)")
        }
        for p in paths {
            print("\(matcher.includes(p) ? "include" : "exclude")  \(p)")
        }
    }
}
