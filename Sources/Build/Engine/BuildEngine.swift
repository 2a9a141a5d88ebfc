import Foundation
import OCI

/// Everything a build needs besides the engine's services.
public struct BuildRequest: Sendable {
    public var plan: BuildPlan
    /// The build context directory.
    public var contextDirectory: String
    public var buildArgs: [String: String]
    public var noCache: Bool
    public var network: NetworkMode
    public var jobs: Int
    /// `--label` values, applied to the final image only (as docker buildx does).
    public var labels: [String: String]
    public var tags: [String]
    /// Writes the target into the store. False for `--output` types that only export.
    public var writeToStore: Bool
    /// Secrets, SSH sockets, cache-mount store and entitlements for RUN --mount (Build/Mounts).
    public var extensions = BuildExtensions()

    public init(plan: BuildPlan, contextDirectory: String, buildArgs: [String: String] = [:], noCache: Bool = false,
                network: NetworkMode = .host, jobs: Int = 2, labels: [String: String] = [:], tags: [String] = [],
                writeToStore: Bool = true) {
        self.plan = plan
        self.contextDirectory = contextDirectory
        self.buildArgs = buildArgs
        self.noCache = noCache
        self.network = network
        self.jobs = jobs
        self.labels = labels
        self.tags = tags
        self.writeToStore = writeToStore
    }
}

/// Variable expansion and ONBUILD parsing come from the Dockerfile frontend; the engine takes
/// them as functions so it stays testable on its own.
public struct FrontendHooks: Sendable {
    /// Expands `$VAR`/`${VAR:-x}` in one word with the given environment.
    public var expand: @Sendable (String, [String: String]) throws -> String
    /// Parses an ONBUILD trigger into a step (line is the FROM line of the stage running it).
    public var parseTrigger: @Sendable (String, Int) throws -> PlannedStep
    /// Expansion that keeps quotes and escapes (heredoc bodies); nil falls back to `expand`.
    public var expandRaw: (@Sendable (String, [String: String]) throws -> String)? = nil

    public init(expand: @escaping @Sendable (String, [String: String]) throws -> String,
                parseTrigger: @escaping @Sendable (String, Int) throws -> PlannedStep) {
        self.expand = expand
        self.parseTrigger = parseTrigger
    }
}

/// A stage after its last step: what later stages and the final export see.
public struct StageResult: Sendable {
    public var image: StageImage
    public var layers: [LayerRef]
    /// Cache key of the stage's last step: identifies its filesystem and config.
    public var key: Digest
    public var buildArgs: [(key: String, value: String?)]
    /// How many RUN steps actually executed (0 on a fully cached build).
    public var executedRuns: Int
}

public struct BuildResult: Sendable {
    public var target: StageResult
    /// Nil when the request did not write to the store.
    public var written: WrittenImage?
    public var stagesBuilt: [Int]
}

/// Orchestrates `slipway build`: schedules the needed stages, runs each step (or takes it from
/// the cache), turns changes into layers and writes the final image.
public struct BuildEngine: Sendable {
    public let store: any EngineStore
    public let snapshotter: any Snapshotter
    public let executor: any StepExecutor
    public let copier: any FileCopier
    public let hooks: FrontendHooks
    public let progress: ProgressReporter

    public init(store: any EngineStore, snapshotter: any Snapshotter, executor: any StepExecutor,
                copier: any FileCopier, hooks: FrontendHooks, progress: ProgressReporter) {
        self.store = store
        self.snapshotter = snapshotter
        self.executor = executor
        self.copier = copier
        self.hooks = hooks
        self.progress = progress
    }

    public func build(_ request: BuildRequest) async throws -> BuildResult {
        let plan = request.plan
        let needed = plan.neededStages()
        let unused = plan.unconsumedBuildArgs(request.buildArgs.keys)
        if !unused.isEmpty {
            // docker buildx's warning, word for word.
            await progress.emit(.note("[Warning] One or more build-args [\(unused.joined(separator: " "))] were not consumed"))
        }
        let result: BuildResult
        do {
            result = try await run(request, needed: needed)
        } catch {
            // Cache records a failed build used still count as used (best effort).
            try? await store.finishBuild(succeeded: false)
            throw error
        }
        try await store.finishBuild(succeeded: true)
        try await copier.finishBuild()
        return result
    }

    func run(_ request: BuildRequest, needed: [Int]) async throws -> BuildResult {
        let plan = request.plan
        var deps: [Int: [Int]] = [:]
        for i in needed { deps[i] = plan.dependencies(of: i) }
        let results = try await StageScheduler(jobs: request.jobs).run(stages: needed, dependencies: deps) {
            (index: Int, access: StageScheduler.Dependencies<StageResult>) async throws -> StageResult in
            try await StageRun(engine: self, request: request, index: index, deps: access).execute()
        }
        guard var target = results[plan.target] else { throw BuildError.cancelled }
        if !request.labels.isEmpty {
            for (k, v) in request.labels { target.image.config.labels[k] = v }
        }
        var written: WrittenImage?
        if request.writeToStore {
            written = try await store.writeImage(target.image, layers: target.layers, tags: request.tags)
        }
        return BuildResult(target: target, written: written, stagesBuilt: needed)
    }
}
