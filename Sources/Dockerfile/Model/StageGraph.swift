/// What a build was asked for: the target stage, build args, platforms.
public struct BuildOptions: Sendable, Equatable {
    /// `--target`; nil = the last stage.
    public var target: String?
    /// `--build-arg KEY=VALUE`.
    public var buildArgs: [String: String]
    public var buildPlatform: Platform
    public var targetPlatform: Platform

    public init(target: String? = nil, buildArgs: [String: String] = [:],
                buildPlatform: Platform = .host, targetPlatform: Platform? = nil) {
        self.target = target
        self.buildArgs = buildArgs
        self.buildPlatform = buildPlatform
        self.targetPlatform = targetPlatform ?? buildPlatform
    }
}

/// What a stage builds on.
public enum StageBase: Sendable, Equatable {
    /// An image reference (variables expanded).
    case image(String)
    /// An earlier stage, by index.
    case stage(Int)
    /// The empty filesystem.
    case scratch
}

/// Why one stage needs another stage or an image.
public struct StageDependency: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// `FROM <stage>`.
        case base = "from"
        /// `COPY --from=`.
        case copyFrom = "copy_from"
        /// `RUN --mount=...,from=`.
        case mountFrom = "run_mount_from"
    }

    public enum Target: Sendable, Equatable {
        case stage(Int)
        case image(String)
    }

    public var kind: Kind
    /// The reference as written (`build`, `0`, `alpine:3.20`).
    public var reference: String
    public var target: Target
    /// Start line of the referencing instruction.
    public var line: Int
}

/// A global or stage ARG with its default and the value this build gives it.
public struct ResolvedArg: Sendable, Equatable {
    public var name: String
    /// The default as written (unexpanded), nil when declared without one.
    public var defaultValue: String?
    /// The value for this build (build-arg, else expanded default, else inherited global), nil if unset.
    public var value: String?
    /// True when a `--build-arg` supplied the value.
    public var overridden: Bool
    public var line: Int
}

/// A stage in the graph for one build.
public struct StageNode: Sendable, Equatable {
    public var stage: Stage
    public var base: StageBase
    /// `--platform` after expansion with global ARGs, if given.
    public var platform: String?
    public var dependencies: [StageDependency]
    /// False when the target does not need this stage.
    public var isUsed: Bool
    /// ARGs declared inside the stage, resolved for this build.
    public var args: [ResolvedArg]

    public var index: Int { stage.index }
    public var name: String? { stage.name }
    /// Indexes of stages this one needs (base and --from), without duplicates, ascending.
    public var stageDependencies: [Int] {
        var set = Set<Int>()
        for d in dependencies { if case .stage(let i) = d.target { set.insert(i) } }
        return set.sorted()
    }
}

/// The resolved stage graph of a Dockerfile for one target and set of build args: bases,
/// dependencies, which stages are needed, and a build order of parallel groups.
public struct StageGraph: Sendable {
    public let model: DockerfileModel
    public let options: BuildOptions
    /// Platform ARGs plus ARGs before the first FROM, as FROM lines see them.
    public let globalArgs: Environment
    /// ARGs before the first FROM, resolved.
    public let globalArgInfo: [ResolvedArg]
    public let stages: [StageNode]
    /// Index of the target stage.
    public let target: Int
    /// Needed stages in groups; every stage's dependencies are in earlier groups, so the
    /// stages of one group can be built in parallel.
    public let buildOrder: [[Int]]
    /// `--build-arg`s no ARG of the target's stages (or the global ones) declares — BuildKit
    /// warns "build-arg was not consumed". Proxy variables are always accepted.
    public let unusedBuildArgs: [String]

    static let alwaysAllowedBuildArgs: Set<String> = [
        "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
        "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
        // Read by the builder itself, never declared by an ARG.
        "SOURCE_DATE_EPOCH", "BUILDKIT_INLINE_CACHE", "BUILDKIT_SYNTAX",
    ]

    public var targetStage: StageNode { stages[target] }

    public init(model: DockerfileModel, options: BuildOptions = BuildOptions()) throws(DockerfileError) {
        self.model = model
        self.options = options
        let file = model.fileName
        let lexer = model.parsed.lexer

        // Target first: its name is the TARGETSTAGE arg.
        let target: Int
        if let t = options.target, !t.isEmpty {
            guard let s = model.stage(named: t) else {
                let names = model.stages.compactMap(\.name)
                var msg = "target stage \"\(t)\" could not be found"
                if let s = Suggest.closest(t, among: names) { msg += " (did you mean \(s)?)" }
                msg += names.isEmpty ? "; the Dockerfile has no named stages" : "; stages: " + names.joined(separator: ", ")
                throw DockerfileError(.target, file: file, message: msg)
            }
            target = s.index
        } else {
            target = model.stages.count - 1
        }
        self.target = target

        // Global ARGs (BuildKit's buildMetaArgs).
        var global = Platform.predefinedArgs(build: options.buildPlatform, target: options.targetPlatform,
                                             targetStage: model.stages[target].name ?? "default")
        for (k, v) in options.buildArgs where global.lookup(k) != nil { global[k] = v }
        var globalInfo: [ResolvedArg] = []
        for step in model.globalArgs {
            guard case .arg(let defs) = step.instruction else { continue }
            for d in defs {
                var value: String?
                var overridden = false
                if let v = options.buildArgs[d.key] {
                    value = v
                    overridden = true
                } else if let def = d.defaultValue {
                    do {
                        value = try lexer.processWord(def, env: global)
                    } catch {
                        throw DockerfileError(error.exceedsLimit ? .limit : .expansion, file: file, line: step.startLine, endLine: step.endLine,
                                              instruction: step.node.keyword, message: error.message)
                    }
                }
                if let value { global[d.key] = value } else { value = global.lookup(d.key) }
                if global.byteCount > ExpansionLimits.maxScopeBytes {
                    throw DockerfileError(.limit, file: file, line: step.startLine, endLine: step.endLine, instruction: step.node.keyword,
                                          message: StageScope.scopeMessage(global.byteCount, what: "the global ARGs (before the first FROM)"))
                }
                globalInfo.removeAll { $0.name == d.key }
                globalInfo.append(ResolvedArg(name: d.key, defaultValue: d.defaultValue, value: value,
                                              overridden: overridden, line: step.startLine))
            }
        }
        self.globalArgs = global
        self.globalArgInfo = globalInfo

        // Stages: bases and dependencies.
        var nodes: [StageNode] = []
        var forwardBases: [Int: DockerfileError] = [:]
        let all = model.stages
        // With duplicate names the last definition wins (BuildKit keeps a name → stage map).
        // A map, not a scan per reference: a scan made 10,000 stages quadratic.
        var indicesByName: [String: [Int]] = [:]
        for s in all { if let n = s.name { indicesByName[n, default: []].append(s.index) } }
        func stageIndex(named name: String, before limit: Int? = nil) -> Int? {
            guard let list = indicesByName[name.lowercased()] else { return nil }
            guard let limit else { return list.last }
            return list.last { $0 < limit }
        }
        for stage in all {
            let loc = stage.fromNode
            func fail(_ kind: DockerfileError.Kind, _ message: String, line: Int? = nil, keyword: String? = nil) -> DockerfileError {
                DockerfileError(kind, file: file, line: line ?? loc.startLine, endLine: line == nil ? loc.endLine : nil,
                                instruction: keyword ?? loc.keyword, message: message)
            }
            let baseName: String
            do {
                baseName = try lexer.processWord(stage.from.base, env: global)
            } catch {
                throw fail(.expansion, error.message)
            }
            guard !baseName.isEmpty else {
                throw fail(.stage, "base name (\(stage.from.base)) should not be blank")
            }
            var platform: String?
            if let p = stage.from.platform {
                let expanded: String
                do {
                    expanded = try lexer.processWord(p, env: global)
                } catch {
                    throw fail(.expansion, "failed to process arguments for platform \(p): \(error.message)")
                }
                guard !expanded.isEmpty else { throw fail(.stage, "empty platform value from expression \(p)") }
                guard Platform(parsing: expanded) != nil else { throw fail(.stage, "failed to parse platform \(p): \"\(expanded)\" is not os/arch[/variant]") }
                platform = expanded
            }
            var deps: [StageDependency] = []
            let base: StageBase
            if let i = stageIndex(named: baseName, before: stage.index) {
                base = .stage(i)
                deps.append(StageDependency(kind: .base, reference: baseName, target: .stage(i), line: loc.startLine))
            } else if let i = stageIndex(named: baseName), i > stage.index {
                // BuildKit would look for an image of that name; a needed stage doing so is
                // almost certainly a mistake, so it is rejected below once reachability is known.
                forwardBases[stage.index] = fail(.stage, "FROM \(baseName) refers to stage \"\(all[i].displayName)\" defined later (line \(all[i].fromNode.startLine)); a stage can only build on stages defined before it")
                base = .image(baseName)
            } else if baseName.lowercased() == "scratch" {
                base = .scratch
            } else {
                base = .image(baseName)
            }
            for step in stage.steps {
                switch step.instruction {
                case .copy(let c):
                    guard let from = c.from else { continue }
                    deps.append(StageDependency(kind: .copyFrom, reference: from,
                                                target: try resolveRef(from, line: step.startLine, keyword: step.node.keyword),
                                                line: step.startLine))
                case .run(let r):
                    for spec in r.mountSpecs {
                        guard let from = Mount.fromField(of: spec), !from.isEmpty else { continue }
                        deps.append(StageDependency(kind: .mountFrom, reference: from,
                                                    target: try resolveRef(from, line: step.startLine, keyword: step.node.keyword),
                                                    line: step.startLine))
                    }
                default:
                    continue
                }
            }
            func resolveRef(_ ref: String, line: Int, keyword: String) throws(DockerfileError) -> StageDependency.Target {
                if !ref.isEmpty, ref.allSatisfy({ $0.isASCII && $0.isNumber }) {
                    guard let i = Int(ref), i < all.count else {
                        throw fail(.stage, "invalid stage index \(ref) (the Dockerfile has \(all.count) stage\(all.count == 1 ? "" : "s"))", line: line, keyword: keyword)
                    }
                    return .stage(i)
                }
                if let i = stageIndex(named: ref) { return .stage(i) }
                return .image(ref)
            }
            nodes.append(StageNode(stage: stage, base: base, platform: platform, dependencies: deps, isUsed: false, args: []))
        }

        // Cycles (a stage needing itself, directly or through later stages).
        var state = [UInt8](repeating: 0, count: nodes.count)  // 0 new, 1 on path, 2 done
        func visit(_ i: Int) -> Int? {
            if state[i] == 2 { return nil }
            if state[i] == 1 { return i }
            state[i] = 1
            for d in nodes[i].stageDependencies {
                if let c = visit(d) { return c }
            }
            state[i] = 2
            return nil
        }
        for i in nodes.indices {
            if let c = visit(i) {
                throw DockerfileError(.stage, file: file, line: nodes[c].stage.fromNode.startLine, instruction: "FROM",
                                      message: "circular dependency detected on stage: \(nodes[c].stage.displayName)")
            }
        }

        // Reachability from the target.
        var used = Set<Int>()
        var work = [target]
        while let i = work.popLast() {
            guard used.insert(i).inserted else { continue }
            work += nodes[i].stageDependencies
        }
        for i in nodes.indices { nodes[i].isUsed = used.contains(i) }

        // A needed stage may only use stages defined before it (BuildKit builds in file order).
        for n in nodes where n.isUsed {
            if let e = forwardBases[n.index] { throw e }
            for d in n.dependencies {
                if case .stage(let j) = d.target, j >= n.index {
                    let what = d.kind == .copyFrom ? "copy from" : "mount from"
                    throw DockerfileError(.stage, file: file, line: d.line,
                                          instruction: d.kind == .copyFrom ? "COPY" : "RUN",
                                          message: "cannot \(what) stage \"\(nodes[j].stage.displayName)\" (line \(nodes[j].stage.fromNode.startLine)): it needs to be defined before current stage \"\(n.stage.displayName)\"")
                }
            }
        }

        // Stage ARGs resolved for this build. A stage built on another starts with that
        // stage's variables (BuildKit carries the parent's environment, ARG values included).
        // Expansion errors surface at build time (the outline shows what it can), except a size
        // limit: that one stops here, for build, outline and lint alike.
        var finalScopes: [StageScope] = []
        var addedBytes = 0
        for i in nodes.indices {
            var scope: StageScope
            if case .stage(let parent) = nodes[i].base {
                scope = finalScopes[parent].inherited()
            } else {
                scope = StageScope(lexer: lexer, globalArgs: global, buildArgs: options.buildArgs)
            }
            let startBytes = scope.environment.byteCount
            var resolved: [ResolvedArg] = []
            for step in nodes[i].stage.steps {
                let expanded: Instruction
                switch step.instruction {
                case .arg, .env:
                    do {
                        expanded = try scope.expand(step, file: file)
                    } catch where error.kind == .limit {
                        throw error
                    } catch {
                        continue
                    }
                default:
                    continue
                }
                if case .arg(let defs) = step.instruction, case .arg(let values) = expanded {
                    for (d, v) in zip(defs, values) {
                        resolved.append(ResolvedArg(name: d.key, defaultValue: d.defaultValue, value: v.defaultValue,
                                                    overridden: options.buildArgs[d.key] != nil, line: step.startLine))
                    }
                }
                if addedBytes + max(0, scope.environment.byteCount - startBytes) > ExpansionLimits.maxDockerfileBytes {
                    throw DockerfileError(.limit, file: file, line: step.startLine, endLine: step.endLine, instruction: step.node.keyword,
                                          message: "the variables of all stages together now hold more than "
                                            + "\(ExpansionLimits.mib(ExpansionLimits.maxDockerfileBytes)), the limit for one Dockerfile; shorten the values")
                }
            }
            addedBytes += max(0, scope.environment.byteCount - startBytes)
            nodes[i].args = resolved
            finalScopes.append(scope)
        }
        self.stages = nodes

        // Parallel groups: a stage's level is one more than its deepest dependency.
        var level = [Int](repeating: 0, count: nodes.count)
        for n in nodes where n.isUsed {
            level[n.index] = (n.stageDependencies.map { level[$0] + 1 }.max()) ?? 0
        }
        var groups: [[Int]] = []
        for n in nodes where n.isUsed {
            let l = level[n.index]
            while groups.count <= l { groups.append([]) }
            groups[l].append(n.index)
        }
        self.buildOrder = groups

        var declared = Set(globalInfo.map(\.name))
        for n in nodes where n.isUsed { for a in n.args { declared.insert(a.name) } }
        self.unusedBuildArgs = options.buildArgs.keys.filter {
            !declared.contains($0) && !StageGraph.alwaysAllowedBuildArgs.contains($0)
                && Platform.predefinedArgs(build: .host, target: .host, targetStage: "").lookup($0) == nil
        }.sorted()
    }

    /// Convenience: parse, type and resolve in one call.
    public static func resolve(_ text: String, fileName: String = "Dockerfile", options: BuildOptions = BuildOptions()) throws(DockerfileError) -> StageGraph {
        try StageGraph(model: DockerfileModel.load(text, fileName: fileName), options: options)
    }

    /// A fresh scope for a stage whose base image has environment `baseImageEnv` (for a stage
    /// built on another stage, use that stage's final scope's `inherited()` instead).
    public func newScope(baseImageEnv: [String]) -> StageScope {
        StageScope(lexer: model.parsed.lexer, baseImageEnv: baseImageEnv, globalArgs: globalArgs, buildArgs: options.buildArgs)
    }
}
