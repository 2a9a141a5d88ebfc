/// The typed instruction model, one case per Dockerfile instruction. Values are as written
/// (variables unexpanded, ENV/LABEL quotes kept); `StageScope.expand(_:)` produces the
/// expanded form a builder executes.
public enum Instruction: Sendable, Equatable {
    case from(From)
    case run(Run)
    case cmd(CommandForm)
    case entrypoint(CommandForm)
    case shell([String])
    case copy(Copy)
    case add(Add)
    case env([KeyValue])
    case label([KeyValue])
    case arg([ArgDefinition])
    case workdir(String)
    case user(String)
    case volume([String])
    case expose([String])
    case stopSignal(String)
    case healthcheck(Healthcheck)
    case onbuild(OnBuild)
    case maintainer(String)

    /// The canonical upper-case keyword.
    public var keyword: String {
        switch self {
        case .from: "FROM"
        case .run: "RUN"
        case .cmd: "CMD"
        case .entrypoint: "ENTRYPOINT"
        case .shell: "SHELL"
        case .copy: "COPY"
        case .add: "ADD"
        case .env: "ENV"
        case .label: "LABEL"
        case .arg: "ARG"
        case .workdir: "WORKDIR"
        case .user: "USER"
        case .volume: "VOLUME"
        case .expose: "EXPOSE"
        case .stopSignal: "STOPSIGNAL"
        case .healthcheck: "HEALTHCHECK"
        case .onbuild: "ONBUILD"
        case .maintainer: "MAINTAINER"
        }
    }
}

/// An instruction with the syntax node it came from (lines, original text, flags, heredocs).
public struct Step: Sendable, Equatable {
    public var instruction: Instruction
    public var node: Node

    public init(instruction: Instruction, node: Node) {
        self.instruction = instruction
        self.node = node
    }

    public var startLine: Int { node.startLine }
    public var endLine: Int { node.endLine }
    /// The logical source line (continuations joined), for history entries and messages.
    public var original: String { node.original }
}

/// Exec form (`["a", "b"]`) or shell form (one string run through the stage's SHELL).
public enum CommandForm: Sendable, Equatable {
    case exec([String])
    case shell(String)

    /// BuildKit's CmdLine: the exec words, or the single shell string.
    public var words: [String] {
        switch self {
        case .exec(let w): w
        case .shell(let s): [s]
        }
    }

    public var isShell: Bool {
        if case .shell = self { return true }
        return false
    }
}

/// `FROM [--platform=P] base [AS name]`.
public struct From: Sendable, Equatable {
    /// The base as written (may contain `$VARS`, expanded with global ARGs only).
    public var base: String
    /// The stage name, lower-cased (stage names are case-insensitive), or nil.
    public var name: String?
    /// `--platform` as written, or nil.
    public var platform: String?
}

/// `RUN`.
public struct Run: Sendable, Equatable {
    public var command: CommandForm
    /// Inline files from heredocs (`RUN <<EOF`); with one heredoc and shell form the body
    /// is the script.
    public var heredocs: [Heredoc]
    /// `--mount` values as written (expanded and re-parsed at build time).
    public var mountSpecs: [String]
    /// Mounts parsed from `mountSpecs` (fully validated when they contain no variables).
    public var mounts: [Mount]
    /// `--network`: default, none or host.
    public var network: String
    /// `--security`: sandbox or insecure.
    public var security: String
    /// `--device` values.
    public var devices: [String]
}

/// A file made from a heredoc body (`COPY <<EOF /dst`).
public struct HeredocSource: Sendable, Equatable {
    /// The heredoc name, used as the file name.
    public var path: String
    /// The body (tabs already stripped for `<<-`).
    public var data: String
    /// Whether variables in the body are expanded (delimiter unquoted).
    public var expand: Bool
}

/// `COPY`.
public struct Copy: Sendable, Equatable {
    public var sources: [String]
    public var heredocSources: [HeredocSource]
    public var destination: String
    /// `--from`: a stage name, a stage index, or an image reference. Never expanded.
    public var from: String?
    public var chown: String?
    public var chmod: String?
    public var link: Bool
    public var parents: Bool
    public var excludes: [String]
}

/// `ADD`.
public struct Add: Sendable, Equatable {
    public var sources: [String]
    public var heredocSources: [HeredocSource]
    public var destination: String
    public var chown: String?
    public var chmod: String?
    public var link: Bool
    public var keepGitDir: Bool?
    public var checksum: String?
    public var unpack: Bool?
    public var excludes: [String]
}

/// One `key=value` of ENV or LABEL.
public struct KeyValue: Sendable, Equatable {
    public var key: String
    public var value: String
    /// Written in the legacy `ENV key value` form.
    public var legacy: Bool

    public init(key: String, value: String, legacy: Bool = false) {
        self.key = key
        self.value = value
        self.legacy = legacy
    }
}

/// One name of an ARG instruction, with its default if given.
public struct ArgDefinition: Sendable, Equatable {
    public var key: String
    public var defaultValue: String?
    /// The `# KEY description` comment above the ARG, if any.
    public var docComment: String?

    public init(key: String, defaultValue: String? = nil, docComment: String? = nil) {
        self.key = key
        self.defaultValue = defaultValue
        self.docComment = docComment
    }
}

/// `HEALTHCHECK`.
public struct Healthcheck: Sendable, Equatable {
    public enum Test: Sendable, Equatable {
        /// `HEALTHCHECK NONE`: disable the base image's check.
        case none
        /// `HEALTHCHECK CMD ...` (shell form becomes CMD-SHELL in the image config).
        case command(CommandForm)
    }

    public var test: Test
    /// Durations in nanoseconds (0 or nil = default).
    public var intervalNanoseconds: Int64?
    public var timeoutNanoseconds: Int64?
    public var startPeriodNanoseconds: Int64?
    public var startIntervalNanoseconds: Int64?
    public var retries: Int?

    /// The image config `Healthcheck.Test` array: `["NONE"]`, `["CMD", ...]` or `["CMD-SHELL", s]`.
    public var configTest: [String] {
        switch test {
        case .none: ["NONE"]
        case .command(.exec(let w)): ["CMD"] + w
        case .command(.shell(let s)): ["CMD-SHELL", s]
        }
    }
}

/// `ONBUILD <instruction>`: stored in the image, run by builds that use it as a base.
public struct OnBuild: Sendable, Equatable {
    /// The trigger as text (what goes into the image config's `OnBuild` list), heredocs appended.
    public var expression: String
    /// The trigger's syntax node.
    public var trigger: Node
}
