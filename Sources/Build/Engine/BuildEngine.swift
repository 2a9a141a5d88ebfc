import Dockerfile
import Foundation
import OCI

/// Everything a build needs besides the engine's services.
public struct BuildRequest: Sendable {
    /// The Dockerfile as the frontend resolved it (build args and target included).
    public var plan: BuildPlan
    /// The build context directory.
    public var contextDirectory: String
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
    /// `--add-ca-bundle`: mount the host's CA bundle over the image's in every RUN (off by
    /// default, as in BuildKit; part of every RUN's cache key).
    public var hostCABundle = false
    /// `build --platform` was given (its value is the plan's `targetPlatform`): every base
    /// image must then be of the stage's platform. Without it a base of another CPU is only
    /// BuildKit's InvalidBaseImagePlatform warning.
    public var platformRequested = false
    /// Build checks only the build can make (InvalidBaseImagePlatform): the CLI applies the
    /// Dockerfile's `# check=` rules, prints and counts them, and may stop the build
    /// (`error=true`) by throwing. Nil: printed as a note.
    public var onCheck: (@Sendable (BuildCheckWarning) async throws -> Void)?

    public init(plan: BuildPlan, contextDirectory: String, noCache: Bool = false,
                network: NetworkMode = .host, jobs: Int = 2, labels: [String: String] = [:], tags: [String] = [],
                writeToStore: Bool = true) {
        self.plan = plan
        self.contextDirectory = contextDirectory
        self.noCache = noCache
        self.network = network
        self.jobs = jobs
        self.labels = labels
        self.tags = tags
        self.writeToStore = writeToStore
    }
}

/// A build check's finding made while building (BuildKit's name, message and line).
public struct BuildCheckWarning: Sendable, Equatable {
    public var rule: String
    public var line: Int
    public var message: String
    public init(rule: String, line: Int, message: String) {
        self.rule = rule
        self.line = line
        self.message = message
    }
}

/// A stage after its last step: what later stages and the final export see.
public struct StageResult: Sendable {
    public var image: StageImage
    public var layers: [LayerRef]
    /// Cache key of the stage's last step: identifies its filesystem and config.
    public var key: CacheKey
    /// The stage's variables after its last step (a stage built on it starts from them).
    public var scope: StageScope
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
    public let progress: ProgressReporter

    public init(store: any EngineStore, snapshotter: any Snapshotter, executor: any StepExecutor,
                copier: any FileCopier, progress: ProgressReporter) {
        self.store = store
        self.snapshotter = snapshotter
        self.executor = executor
        self.copier = copier
        self.progress = progress
    }

    public func build(_ request: BuildRequest) async throws -> BuildResult {
        let plan = request.plan
        let needed = plan.neededStages()
        let unused = plan.unconsumedBuildArgs
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
