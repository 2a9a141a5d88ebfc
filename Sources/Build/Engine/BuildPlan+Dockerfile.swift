import Dockerfile

extension BuildPlan {
    /// The plan for a resolved stage graph (target and build args already applied).
    public init(graph: StageGraph) throws(BuildError) {
        var stages: [StagePlan] = []
        let file = graph.model.fileName
        for node in graph.stages {
            let base: PlanBase
            switch node.base {
            case .scratch: base = .scratch
            case .image(let r): base = .image(r)
            case .stage(let i): base = .stage(i)
            }
            var steps: [PlannedStep] = []
            for step in node.stage.steps {
                steps.append(try Self.plannedStep(step, graph: graph, stageIndex: node.index, file: file))
            }
            stages.append(StagePlan(name: node.name, base: base, baseText: node.stage.from.base,
                                    line: node.stage.fromNode.startLine, steps: steps,
                                    platform: node.platform.flatMap(Platform.init(parsing:))))
        }
        var meta: [String: String] = [:]
        for k in graph.globalArgs.keys { meta[k] = graph.globalArgs.lookup(k) }
        self.init(stages: stages, target: graph.target, metaArgs: meta, file: file)
    }

    static func text(_ step: Step) -> String {
        let t = step.original.trimmingCharacters(in: .whitespaces)
        return t.count > 200 ? String(t.prefix(197)) + "..." : t
    }

    static func plannedStep(_ step: Step, graph: StageGraph, stageIndex: Int, file: String) throws(BuildError) -> PlannedStep {
        let op: StepOp
        var extras = RunExtras()
        func unsupported(_ what: String) -> BuildError {
            .stepFailed(file: file, line: step.startLine, instruction: text(step), reason: "\(what) is not supported yet")
        }
        switch step.instruction {
        case .from:
            throw unsupported("FROM inside a stage")
        case .run(let r):
            extras = Self.runExtras(r, graph: graph, stageIndex: stageIndex)
            var command = r.command.words
            if !r.heredocs.isEmpty, r.command.isShell {
                // BuildKit: a single heredoc is the script; otherwise the shell gets the text.
                if r.heredocs.count == 1, command.count == 1, command[0].trimmingCharacters(in: .whitespaces).hasPrefix("<<") {
                    command = [r.heredocs[0].effectiveContent]
                    if command[0].hasPrefix("#!") {
                        // With a shebang BuildKit runs the body as a file (/dev/pipes/NAME).
                        let script = InlineScript(name: r.heredocs[0].name, data: command[0])
                        extras.script = script
                        command = [script.path]
                    }
                } else {
                    var t = command.joined(separator: " ")
                    for h in r.heredocs { t += "\n" + h.content + h.name }
                    command = [t]
                }
            }
            op = .run(command: command, shellForm: r.command.isShell, network: r.network == "default" ? nil : r.network)
        case .cmd(let c):
            op = .cmd(c.words, shellForm: c.isShell)
        case .entrypoint(let c):
            op = .entrypoint(c.words, shellForm: c.isShell)
        case .shell(let s):
            op = .shell(s)
        case .copy(let c):
            var cop = CopyOp(isAdd: false, sources: c.sources, dest: c.destination, chown: c.chown, chmod: c.chmod)
            if let from = c.from {
                cop.fromText = from
                let dep = graph.stages[stageIndex].dependencies.first { $0.kind == .copyFrom && $0.reference == from }
                switch dep?.target {
                case .stage(let i)?: cop.from = .stage(i)
                case .image(let r)?: cop.from = .image(r)
                case nil: cop.from = .image(from)
                }
            }
            cop.excludes = c.excludes
            cop.parents = c.parents
            cop.link = c.link
            cop.inline = c.heredocSources.map { ($0.path, $0.data) }
            cop.inlineExpand = c.heredocSources.map(\.expand)
            cop.line = step.startLine
            op = .copy(cop)
        case .add(let a):
            var cop = CopyOp(isAdd: true, sources: a.sources, dest: a.destination, chown: a.chown, chmod: a.chmod)
            cop.excludes = a.excludes
            cop.link = a.link
            cop.unpack = a.unpack
            cop.checksum = a.checksum
            cop.inline = a.heredocSources.map { ($0.path, $0.data) }
            cop.inlineExpand = a.heredocSources.map(\.expand)
            cop.line = step.startLine
            op = .copy(cop)
        case .env(let kvs):
            op = .env(kvs.map { ($0.key, $0.value) })
        case .label(let kvs):
            op = .label(kvs.map { ($0.key, $0.value) })
        case .arg(let defs):
            op = .arg(defs.map { ($0.key, $0.defaultValue) })
        case .workdir(let w):
            op = .workdir(w)
        case .user(let u):
            op = .user(u)
        case .volume(let v):
            op = .volume(v)
        case .expose(let p):
            op = .expose(p)
        case .stopSignal(let s):
            op = .stopSignal(s)
        case .healthcheck(let h):
            if case .none = h.test {
                op = .healthcheck(nil)
            } else {
                op = .healthcheck(StageHealthcheck(test: h.configTest, interval: h.intervalNanoseconds ?? 0,
                                                   timeout: h.timeoutNanoseconds ?? 0,
                                                   startPeriod: h.startPeriodNanoseconds ?? 0,
                                                   startInterval: h.startIntervalNanoseconds ?? 0, retries: h.retries ?? 0))
            }
        case .onbuild(let o):
            op = .onbuild(o.expression)
        case .maintainer(let m):
            op = .maintainer(m)
        }
        var planned = PlannedStep(line: step.startLine, text: text(step), op: op)
        planned.runExtras = extras
        return planned
    }
}

extension FrontendHooks {
    /// Expansion with the Dockerfile's escape character and ONBUILD triggers parsed by the frontend.
    public static func dockerfile(lexer: ShellLexer, graph: StageGraph) -> FrontendHooks {
        var raw = lexer
        raw.skipProcessQuotes = true
        var hooks = FrontendHooks(expand: { word, env in
            try lexer.processWord(word, env: Environment(env.map { ($0.key, $0.value) }))
        }, parseTrigger: { trigger, line in
            let model = try DockerfileModel.load("FROM scratch\n" + trigger + "\n", fileName: graph.model.fileName)
            guard let step = model.stages.first?.steps.first else {
                throw BuildError.stepFailed(file: graph.model.fileName, line: line, instruction: "ONBUILD \(trigger)",
                                            reason: "trigger is empty")
            }
            var planned = try BuildPlan.plannedStep(step, graph: graph, stageIndex: 0, file: graph.model.fileName)
            planned.line = line
            planned.text = "ONBUILD " + planned.text
            if case .copy(var c) = planned.op {
                c.line = line
                planned.op = .copy(c)
            }
            return planned
        })
        // Heredoc bodies (COPY <<EOF) keep their quotes, as BuildKit's raw expansion does.
        let expandRaw = raw
        hooks.expandRaw = { word, env in
            try expandRaw.processWord(word, env: Environment(env.map { ($0.key, $0.value) }))
        }
        return hooks
    }
}
