/// The variables of one stage while it is built, and BuildKit's expansion rules.
///
/// A builder walks a stage's steps in order and calls `expand(_:)` on each; the result is the
/// instruction with variables substituted exactly where BuildKit substitutes them (ENV, LABEL,
/// ADD/COPY sources, destination, --chown, --chmod, ADD --checksum, heredoc bodies with an
/// unquoted delimiter, WORKDIR, USER, VOLUME, STOPSIGNAL, EXPOSE, RUN --mount values, ARG
/// defaults) and nowhere else (shell-form RUN/CMD/ENTRYPOINT are left to the shell). ENV and
/// ARG steps update the scope.
public struct StageScope: Sendable {
    public let lexer: ShellLexer
    /// What `$VAR` sees: the base image's environment, then ENV and ARG values in order.
    public private(set) var environment: Environment
    /// The image config environment: the base image's plus ENV (ARGs are not persisted).
    public private(set) var imageEnvironment: Environment
    /// ARGs declared in this stage with their values (nil = declared without a value), in
    /// order; a builder passes these to RUN as environment and records them in history.
    public private(set) var args: [(key: String, value: String?)] = []
    /// Resolved global ARGs (platform args + ARGs before the first FROM).
    public let globalArgs: Environment
    /// `--build-arg` values.
    public let buildArgs: [String: String]

    /// ARGs BuildKit never puts into the environment.
    static let nonEnvArgs: Set<String> = ["BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"]

    public init(lexer: ShellLexer = ShellLexer(), baseImageEnv: [String] = [], globalArgs: Environment = Environment(),
                buildArgs: [String: String] = [:]) {
        self.lexer = lexer
        self.environment = Environment(keyValueStrings: baseImageEnv)
        self.imageEnvironment = self.environment
        self.globalArgs = globalArgs
        self.buildArgs = buildArgs
    }

    /// Expands one word with the current environment (quotes removed).
    public func expandWord(_ word: String) throws(ExpansionError) -> String {
        try lexer.processWord(word, env: environment)
    }

    /// ARG values in scope as `KEY=VALUE` (only those with a value).
    public var argEnvironment: Environment {
        var env = Environment()
        for a in args { if let v = a.value { env[a.key] = v } }
        return env
    }

    /// Expands `step` and applies ENV/ARG to the scope. Errors carry the step's location.
    public mutating func expand(_ step: Step, file: String = "") throws(DockerfileError) -> Instruction {
        do {
            let expanded = try expandOrFail(step.instruction)
            if environment.byteCount > ExpansionLimits.maxScopeBytes {
                throw ExpansionError(message: Self.scopeMessage(environment.byteCount, what: "the variables of this stage (its ARGs, ENVs and the base image's environment)"),
                                     word: "", exceedsLimit: true)
            }
            return expanded
        } catch let e as ExpansionError {
            throw DockerfileError(e.exceedsLimit ? .limit : .expansion, file: file, line: step.startLine, endLine: step.endLine,
                                  instruction: step.node.keyword, message: e.message)
        } catch let e as MountError {
            throw DockerfileError(.instruction, file: file, line: step.startLine, endLine: step.endLine,
                                  instruction: step.node.keyword, message: e.message)
        } catch let e as ValidationFailure {
            throw DockerfileError(.instruction, file: file, line: step.startLine, endLine: step.endLine,
                                  instruction: step.node.keyword, message: e.message)
        } catch {
            throw DockerfileError(.expansion, file: file, line: step.startLine, endLine: step.endLine,
                                  instruction: step.node.keyword, message: "\(error)")
        }
    }

    /// The message for a scope past `ExpansionLimits.maxScopeBytes`.
    static func scopeMessage(_ bytes: Int, what: String) -> String {
        "\(what) now hold \(bytes) bytes, more than \(ExpansionLimits.mib(ExpansionLimits.maxScopeBytes)), "
            + "the limit for one scope; shorten the values"
    }

    mutating func expandOrFail(_ instruction: Instruction) throws -> Instruction {
        let env = environment
        let lexer = self.lexer
        func word(_ s: String) throws(ExpansionError) -> String { try lexer.processWord(s, env: env) }
        func optional(_ s: String?) throws(ExpansionError) -> String? { try s.map { (x) throws(ExpansionError) in try word(x) } }
        func heredocs(_ list: [HeredocSource]) throws(ExpansionError) -> [HeredocSource] {
            var raw = ShellLexer(escape: "\\")
            raw.skipProcessQuotes = true
            var out = list
            for i in out.indices where out[i].expand {
                out[i].data = try raw.processWord(out[i].data, env: env)
            }
            return out
        }
        switch instruction {
        case .env(let pairs):
            var expanded: [KeyValue] = []
            for p in pairs {
                expanded.append(KeyValue(key: try word(p.key), value: try word(p.value), legacy: p.legacy))
            }
            for p in expanded {
                environment[p.key] = p.value
                imageEnvironment[p.key] = p.value
            }
            return .env(expanded)
        case .label(let pairs):
            var expanded: [KeyValue] = []
            for p in pairs {
                expanded.append(KeyValue(key: try word(p.key), value: try word(p.value), legacy: p.legacy))
            }
            return .label(expanded)
        case .add(var a):
            a.chown = try optional(a.chown)
            a.chmod = try optional(a.chmod)
            a.checksum = try optional(a.checksum)
            a.sources = try a.sources.map { (s) throws(ExpansionError) in try word(s) }
            a.destination = try word(a.destination)
            a.heredocSources = try heredocs(a.heredocSources)
            if let c = a.chmod, let e = Validation.checkChmod(c) { throw ValidationFailure(e) }
            if a.checksum != nil, let e = Validation.checkChecksumSources(a.sources) { throw ValidationFailure(e) }
            return .add(a)
        case .copy(var c):
            c.chown = try optional(c.chown)
            c.chmod = try optional(c.chmod)
            c.sources = try c.sources.map { (s) throws(ExpansionError) in try word(s) }
            c.destination = try word(c.destination)
            c.heredocSources = try heredocs(c.heredocSources)
            if let m = c.chmod, let e = Validation.checkChmod(m) { throw ValidationFailure(e) }
            return .copy(c)
        case .workdir(let p): return .workdir(try word(p))
        case .user(let u): return .user(try word(u))
        case .stopSignal(let s): return .stopSignal(try word(s))
        case .volume(let v): return .volume(try v.map { (s) throws(ExpansionError) in try word(s) })
        case .expose(let ports):
            var out: [String] = []
            for p in ports { out += try lexer.processWords(p, env: env) }
            for p in out { if let e = Validation.checkPort(p) { throw ValidationFailure(e) } }
            return .expose(out)
        case .run(var r):
            r.mounts = try r.mountSpecs.map { (spec) throws(MountError) in try Mount.parse(spec, expand: word) }
            return .run(r)
        case .arg(let defs):
            var out: [ArgDefinition] = []
            for var d in defs {
                var value: String?
                if let v = buildArgs[d.key] {
                    value = v
                } else if let def = d.defaultValue {
                    value = try lexer.processWord(def, env: environment)
                } else if let g = globalArgs.lookup(d.key) {
                    value = g
                }
                if let value, !StageScope.nonEnvArgs.contains(d.key) {
                    environment[d.key] = value
                }
                args.removeAll { $0.key == d.key }
                args.append((d.key, value))
                d.defaultValue = value
                out.append(d)
            }
            return .arg(out)
        case .from, .cmd, .entrypoint, .shell, .healthcheck, .onbuild, .maintainer:
            return instruction
        }
    }
}

extension StageScope {
    /// The scope a stage built `FROM` this stage starts with: BuildKit carries the parent's
    /// environment (ENV and ARG values) and its ARGs over.
    public func inherited() -> StageScope {
        var s = self
        s.args = args
        return s
    }
}
