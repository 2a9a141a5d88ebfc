import Dockerfile

/// The engine's view of a Dockerfile: the frontend's resolved `StageGraph` (stages, bases,
/// dependencies, global ARGs, target) — nothing re-modelled. Steps stay the frontend's typed
/// `Step`s; the engine expands each with the stage's `StageScope` as it goes, as BuildKit's
/// dispatcher does, so `build`, `outline` and `lint` read scope the same way by construction.
public struct BuildPlan: Sendable {
    public let graph: StageGraph
    public let stages: [StagePlan]

    public init(graph: StageGraph) {
        self.graph = graph
        self.stages = graph.stages.map(StagePlan.init(node:))
    }

    /// Parses, types and resolves `text` (a convenience for tests and tools).
    public init(dockerfile text: String, fileName: String = "Dockerfile",
                options: BuildOptions = BuildOptions()) throws(DockerfileError) {
        self.init(graph: try StageGraph.resolve(text, fileName: fileName, options: options))
    }

    /// Index of the stage to build (`--target`, or the last one).
    public var target: Int { graph.target }
    /// Name of the Dockerfile, for error messages.
    public var file: String { graph.model.fileName }

    /// Stages `index` depends on: its base stage and every `COPY --from` / `--mount from=` stage.
    public func dependencies(of index: Int) -> [Int] { graph.stages[index].stageDependencies }

    /// The stages the target needs, in definition order (dependencies first). Unused stages never run.
    public func neededStages() -> [Int] {
        graph.stages.filter(\.isUsed).map(\.index)
    }

    /// `--build-arg` names no ARG of a built stage (or global ARG) declares, sorted.
    public var unconsumedBuildArgs: [String] { graph.unusedBuildArgs }

    /// A stage's display name: its `AS` name, or `stage-N`.
    public func displayName(_ index: Int) -> String {
        stages[index].name ?? "stage-\(index)"
    }

    /// A fresh scope for a stage whose base has environment `env` (image config `Env`).
    func newScope(baseImageEnv env: [String]) -> StageScope { graph.newScope(baseImageEnv: env) }
}

/// One stage as the engine schedules it: the frontend's node plus where each `--from` points.
public struct StagePlan: Sendable {
    public let node: StageNode
    /// `COPY --from` and `RUN --mount from=` references, resolved by the frontend.
    public let references: [String: CopyFrom]

    init(node: StageNode) {
        self.node = node
        var refs: [String: CopyFrom] = [:]
        for d in node.dependencies where d.kind != .base {
            switch d.target {
            case .stage(let i): refs[d.reference] = .stage(i)
            case .image(let r): refs[d.reference] = .image(r)
            }
        }
        self.references = refs
    }

    public var name: String? { node.name }
    public var base: StageBase { node.base }
    /// The base as written (for messages).
    public var baseText: String { node.stage.from.base }
    public var line: Int { node.stage.fromNode.startLine }
    public var steps: [Step] { node.stage.steps }

    /// Where a `--from` value points: a stage of this graph, else an image (or named context).
    public func resolve(from: String) -> CopyFrom { references[from] ?? .image(from) }
}

/// Where `COPY --from` (or a mount's `from=`) reads: an earlier stage, or an image / named context.
public enum CopyFrom: Sendable, Equatable {
    case stage(Int)
    case image(String)
}

/// The frontend's platform (the values of the automatic platform ARGs), named apart from
/// `OCI.Platform` for files that import both (the `Dockerfile` module has a `Dockerfile` type,
/// so `Dockerfile.Platform` cannot be written).
public typealias FrontendPlatform = Platform
