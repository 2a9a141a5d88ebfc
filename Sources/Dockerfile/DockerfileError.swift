/// Every error the Dockerfile module reports: where (file, lines, instruction) and what.
/// `description` is the one line a user sees: `Dockerfile:12: COPY: unknown flag: --fromm`.
public struct DockerfileError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// The text is not a Dockerfile BuildKit would read (syntax, directives, heredocs, JSON).
        case syntax
        /// An instruction has wrong arguments or flags.
        case instruction
        /// A variable expansion failed.
        case expansion
        /// Stages: bad names, bad references, forward references, cycles.
        case stage
        /// `--target` names no stage.
        case target
        /// A `.dockerignore` pattern is malformed.
        case ignorePattern
        /// Expansion went past one of the `ExpansionLimits` (a word, a scope, the Dockerfile).
        case limit
    }

    public var kind: Kind
    /// The Dockerfile's name as the user gave it (may be empty for in-memory text).
    public var file: String
    /// 1-based first line of the offending instruction, when there is one.
    public var line: Int?
    /// 1-based last line (continuations, heredocs).
    public var endLine: Int?
    /// The instruction keyword as written (`COPY`), when there is one.
    public var instruction: String?
    public var message: String

    public init(_ kind: Kind, file: String = "", line: Int? = nil, endLine: Int? = nil, instruction: String? = nil, message: String) {
        self.kind = kind
        self.file = file
        self.line = line
        self.endLine = endLine
        self.instruction = instruction
        self.message = message
    }

    public var description: String {
        var out = ""
        if !file.isEmpty || line != nil {
            out += file.isEmpty ? "Dockerfile" : file
            if let line { out += ":\(line)" }
            out += ": "
        }
        if let instruction { out += "\(instruction.uppercased()): " }
        return out + message
    }
}
