import Dockerfile

/// The engine's view of a Dockerfile: stages and their steps, with words still unexpanded
/// (the engine expands them with each stage's environment as it goes, as BuildKit does).
/// `BuildPlan+Dockerfile.swift` builds it from the parser's typed instructions.
public struct BuildPlan: Sendable {
    public var stages: [StagePlan]
    /// Index of the stage to build (`--target`, or the last one).
    public var target: Int
    /// Global ARGs (before the first FROM), resolved with --build-arg values.
    public var metaArgs: [String: String]
    /// Name of the Dockerfile, for error messages.
    public var file: String

    public init(stages: [StagePlan], target: Int, metaArgs: [String: String] = [:], file: String = "Dockerfile") {
        self.stages = stages
        self.target = target
        self.metaArgs = metaArgs
        self.file = file
    }

    /// Stages `index` depends on: its base stage and every COPY --from stage.
    public func dependencies(of index: Int) -> [Int] {
        var out: [Int] = []
        if case .stage(let b) = stages[index].base { out.append(b) }
        for s in stages[index].steps {
            if case .copy(let c) = s.op, case .stage(let j)? = c.from, !out.contains(j) { out.append(j) }
            for case .stage(let j) in s.runExtras.mountFroms.values where !out.contains(j) { out.append(j) }
        }
        return out
    }

    /// The stages the target needs, in definition order (dependencies first). Unused stages never run.
    public func neededStages() -> [Int] {
        var seen = Set<Int>()
        var stack = [target]
        while let i = stack.popLast() {
            guard seen.insert(i).inserted else { continue }
            stack += dependencies(of: i)
        }
        return seen.sorted()
    }

    /// `--build-arg` names no ARG declares (predefined proxy/platform args excepted), sorted.
    public func unconsumedBuildArgs<S: Sequence>(_ given: S) -> [String] where S.Element == String {
        var declared = Set(metaArgs.keys)
        for st in stages {
            for step in st.steps {
                if case .arg(let defs) = step.op { for d in defs { declared.insert(d.key) } }
            }
        }
        let predefined: Set<String> = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
                                       "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "SOURCE_DATE_EPOCH",
                                       "BUILDKIT_INLINE_CACHE", "BUILDKIT_SYNTAX"]
        return given.filter { !declared.contains($0) && !predefined.contains($0) }.sorted()
    }

    /// A stage's display name: its `AS` name, or `stage-N`.
    public func displayName(_ index: Int) -> String {
        stages[index].name ?? "stage-\(index)"
    }
}

public struct StagePlan: Sendable {
    public var name: String?
    public var base: PlanBase
    /// The base as written (for messages).
    public var baseText: String
    public var line: Int
    public var steps: [PlannedStep]
    /// `FROM --platform=...`, expanded; nil means the build's (the host's) platform.
    public var platform: Platform?

    public init(name: String?, base: PlanBase, baseText: String, line: Int, steps: [PlannedStep], platform: Platform? = nil) {
        self.name = name
        self.base = base
        self.baseText = baseText
        self.line = line
        self.steps = steps
        self.platform = platform
    }
}

public enum PlanBase: Sendable, Equatable {
    case scratch
    case image(String)
    case stage(Int)
}

public struct PlannedStep: Sendable {
    /// 1-based line of the instruction in the Dockerfile.
    public var line: Int
    /// The instruction as written (for progress and errors).
    public var text: String
    public var op: StepOp
    /// RUN --mount / --security / heredoc script (Build/Mounts); empty for other steps.
    public var runExtras = RunExtras()

    public init(line: Int, text: String, op: StepOp) {
        self.line = line
        self.text = text
        self.op = op
    }
}

public enum CopyFrom: Sendable, Equatable {
    case stage(Int)
    case image(String)
}

public struct CopyOp: Sendable {
    public var isAdd: Bool
    public var sources: [String]
    public var dest: String
    public var from: CopyFrom?
    /// `--from` as written (for messages).
    public var fromText: String?
    public var chown: String?
    public var chmod: String?
    public var excludes: [String] = []
    public var parents = false
    public var link = false
    public var unpack: Bool? = nil
    public var checksum: String? = nil
    /// Heredoc sources (`COPY <<EOF /file`): name and body, written as files.
    public var inline: [(name: String, data: String)] = []
    /// Per `inline` entry: expand variables in the body (unquoted heredoc delimiter).
    public var inlineExpand: [Bool] = []
    /// Dockerfile line of the instruction (copy errors name it).
    public var line = 0

    public init(isAdd: Bool, sources: [String], dest: String, from: CopyFrom? = nil, chown: String? = nil, chmod: String? = nil) {
        self.isAdd = isAdd
        self.sources = sources
        self.dest = dest
        self.from = from
        self.chown = chown
        self.chmod = chmod
    }
}

/// One instruction. Words are raw (unexpanded) except where the Dockerfile reference says an
/// instruction does no expansion (RUN/CMD/ENTRYPOINT commands are left to the shell).
public enum StepOp: Sendable {
    case run(command: [String], shellForm: Bool, network: String?)
    case copy(CopyOp)
    case workdir(String)
    case env([(key: String, value: String)])
    case label([(key: String, value: String)])
    case arg([(key: String, defaultValue: String?)])
    case user(String)
    case expose([String])
    case volume([String])
    case cmd([String], shellForm: Bool)
    case entrypoint([String], shellForm: Bool)
    case shell([String])
    case healthcheck(StageHealthcheck?)
    case stopSignal(String)
    case maintainer(String)
    case onbuild(String)

    /// Whether the step changes the filesystem (and so may produce a layer).
    public var isFilesystemStep: Bool {
        switch self {
        case .run, .copy, .workdir: return true
        default: return false
        }
    }
}
