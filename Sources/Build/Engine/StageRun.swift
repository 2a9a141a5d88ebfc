import Dockerfile
import Foundation
import OCI

/// Executes one stage: its FROM, then each of the frontend's steps in order. Every step is
/// expanded with the stage's `StageScope` (the frontend's rules: what is expanded where, how
/// ENV and ARG update the scope) and handed to the dispatcher for its kind (`StageRun+From`,
/// `+Run`, `+Copy`, `+Workdir`, `+Metadata`); each returns its typed `CacheKey` and outcome.
/// Every snapshot it mounts is unmounted and removed before it returns, whether the step
/// succeeded, failed or was cancelled.
struct StageRun {
    let engine: BuildEngine
    let request: BuildRequest
    let index: Int
    let deps: StageScheduler.Dependencies<StageResult>

    var plan: BuildPlan { request.plan }
    var stage: StagePlan { plan.stages[index] }
    var file: String { plan.file }

    /// What a dispatcher produced: the key the stage continues with and, for a filesystem
    /// step, its layer (nil when the step changed nothing) and whether it ran.
    struct Dispatched {
        var key: CacheKey
        var layer: LayerRef? = nil
        var ran = false
        /// The progress number of a filesystem step (nil for config-only steps).
        var stepID: Int? = nil
    }

    /// The stage while it is built.
    struct State {
        var layers: [LayerRef]
        var key: CacheKey
        var machine: StageConfigMachine
        var scope: StageScope
        /// ONBUILD triggers of the base, run before the stage's own steps.
        var triggers: [String]
        var executedRuns = 0
        var labels: StepLabels
        /// What the stage is built on, for miss explanations: `scratch`, `image NAME CONFIG`,
        /// `stage NAME`.
        var base = "scratch"
        /// The step's position in the stage (triggers first), naming "the same step" across builds.
        var position = 0
        /// The progress number of the previous filesystem step when it ran (not cached).
        var previousRan: Int?

        /// The diffIDs of the stage's filesystem so far (what a filesystem step is built on).
        var layerDiffIDs: [Digest] { layers.map(\.diffID) }

        mutating func apply(_ d: Dispatched) {
            key = d.key
            if let l = d.layer { layers.append(l) }
            if let id = d.stepID { previousRan = d.ran ? id : nil }
        }
    }

    /// `[stage n/N] TEXT` labels, numbered as BuildKit numbers a stage's vertices.
    struct StepLabels {
        var prefix: String
        var total: Int
        var number = 0
        mutating func next(_ text: String) -> String {
            number += 1
            return "[\(prefix)\(number)/\(max(total, number))] \(text)"
        }
    }

    func execute() async throws -> StageResult {
        var state = try await dispatchFrom()
        let steps = try triggerSteps(state.triggers) + stage.steps
        for (position, step) in steps.enumerated() {
            try Task.checkCancellation()
            state.position = position
            let instruction = try expand(step, scope: &state.scope)
            let d: Dispatched
            switch instruction {
            case .run(let run):
                d = try await dispatchRun(run, step: step, state: &state)
            case .copy, .add:
                d = try await dispatchCopy(instruction, step: step, state: &state)
            case .workdir(let path):
                d = try await dispatchWorkdir(path, step: step, state: &state)
            case .from:
                throw fail(step, "FROM inside a stage is not supported")
            default:
                d = try dispatchMetadata(instruction, step: step, state: &state)
            }
            state.apply(d)
        }
        return StageResult(image: state.machine.image, layers: state.layers, key: state.key, scope: state.scope,
                           executedRuns: state.executedRuns)
    }

    /// The step expanded by the frontend; its errors keep their `file:line:` form.
    func expand(_ step: Step, scope: inout StageScope) throws -> Instruction {
        do {
            return try scope.expand(step, file: file)
        } catch {
            throw BuildError.located("\(error)")
        }
    }

    func fail(_ step: Step, _ reason: String) -> BuildError {
        .stepFailed(file: file, line: step.startLine, instruction: Self.text(step), reason: reason)
    }

    /// The instruction as written, for progress and errors (long ones shortened).
    static func text(_ step: Step) -> String {
        let t = step.original.trimmingCharacters(in: .whitespaces)
        return t.count > 200 ? String(t.prefix(197)) + "..." : t
    }

    // MARK: - filesystem steps

    struct StepOutcome {
        var layer: LayerRef?
        var ran: Bool
        var created: Date
        /// The step's progress number.
        var id: Int
    }

    /// What a filesystem step tells `MissExplainer` and records for later builds.
    struct Explain {
        var inputs: (CacheKey) -> StepInputs
        var scopes: [Digest]
        var parentRanAs: Int?
        /// For COPY/ADD from a local context: the selection, listed only when the step misses.
        var files: (() async -> SelectionListing?)?
    }

    /// The explanation context of `step` in `state`: "the same step" is the same position in
    /// the same stage of the same Dockerfile, or of a build of the same tag.
    func explain(_ step: Step, label: String, state: State,
                 files: (() async -> SelectionListing?)? = nil) -> Explain {
        let stageName = stage.name ?? "#\(index)"
        let dockerfile = (request.contextDirectory as NSString).standardizingPath + "\u{0}" + file
        var scopes = [Digest.sha256("dockerfile\u{0}\(dockerfile)\u{0}\(stageName)\u{0}\(state.position)")]
        for tag in request.tags { scopes.append(Digest.sha256("tag\u{0}\(tag)\u{0}\(stageName)\u{0}\(state.position)")) }
        let (base, args, line) = (state.base, state.scope.args.map(\.key), step.startLine)
        let instruction = label.split(separator: "] ", maxSplits: 1).last.map(String.init) ?? label
        return Explain(inputs: { StepInputs(key: $0, instruction: instruction, line: line, base: base, args: args) },
                       scopes: scopes, parentRanAs: state.previousRan, files: files)
    }

    /// Mounts a writable snapshot of `lowers`, runs `body` on its root, unmounts and returns it.
    func inSnapshot(_ lowers: [String], _ body: (String) async throws -> Void) async throws -> any RootSnapshot {
        let snap = try await engine.snapshotter.writable(lowers: lowers)
        do {
            try await body(snap.root)
            try await snap.unmount()
            return snap
        } catch {
            try? await snap.unmount()
            await snap.discard()
            throw error
        }
    }

    /// Runs a filesystem step, or takes it from the cache. `body` gets the lower directories
    /// (topmost first) and the step number, and returns the unmounted snapshot with the changes.
    func filesystemStep(key stepKey: CacheKey, label: String, layers: [LayerRef], step: Step, explain: Explain,
                        _ body: ([String], Int) async throws -> any RootSnapshot) async throws -> StepOutcome {
        let progress = engine.progress
        let id = await progress.newStep()
        // SOURCE_DATE_EPOCH changes the layer bytes (clamped mtimes) and times: its own records.
        let epoch = request.extensions.sourceDateEpoch
        let key = epoch.map { CacheKey.epoch(stepKey, $0) } ?? stepKey
        if !request.noCache, let hit = try await engine.store.cachedStep(key) {
            await progress.emit(.cached(step: id, name: label, importedFrom: hit.importedFrom))
            if let layer = hit.layer { await progress.emit(.layer(step: id, bytes: layer.size, uncompressedBytes: layer.uncompressedSize)) }
            return StepOutcome(layer: hit.layer, ran: false, created: hit.created, id: id)
        }
        await progress.emit(.started(step: id, name: label))
        // Why it missed: against what the same step was made of when it last ran. The inputs
        // are recorded whatever this run's outcome (with the build's bookkeeping, at its end).
        var inputs = explain.inputs(stepKey)
        if let files = explain.files { inputs.files = await files() }
        let previous = try? await engine.store.previousStepInputs(scopes: explain.scopes)
        let reason = MissExplainer.reason(inputs, previous: previous,
                                          .init(noCache: request.noCache, parentRanAs: explain.parentRanAs))
        await progress.emit(.miss(step: id, reason: reason))
        await engine.store.recordStepInputs(inputs, key: key.digest, scopes: explain.scopes)
        do {
            let lowers = try await engine.store.lowerDirectories(layers)
            let snap = try await body(lowers, id)
            let layer: LayerRef?
            do {
                guard let upper = snap.upper else { throw fail(step, "snapshot has no upper directory") }
                layer = try await engine.store.commitLayer(upperDirectory: upper)
            } catch {
                await snap.discard()
                throw error
            }
            await snap.discard()
            // Whole seconds: the time survives the cache record exactly, so a cached rebuild
            // reproduces the same config bytes (and image ID).
            let now = Date(timeIntervalSince1970: epoch.map(Double.init) ?? Date().timeIntervalSince1970.rounded(.down))
            try await engine.store.recordStep(key, CachedStep(layer: layer, created: now))
            if let layer { await progress.emit(.layer(step: id, bytes: layer.size, uncompressedBytes: layer.uncompressedSize)) }
            if let cpu = snap.cpuSeconds { await progress.emit(.cpu(step: id, seconds: cpu)) }
            await progress.emit(.finished(step: id))
            return StepOutcome(layer: layer, ran: true, created: now, id: id)
        } catch {
            let message: String
            if case BuildError.runFailed(_, _, _, let status, _, _) = error { message = "exit code \(status)" } else { message = "\(error)" }
            await progress.emit(.failed(step: id, message: message))
            if error is CancellationError { throw BuildError.cancelled }
            if error is BuildError { throw error }
            throw fail(step, "\(error)")
        }
    }

    // MARK: - sources of COPY --from and mounts

    /// Where a COPY reads from: the context (`layers == nil`) or a stage's / image's layers.
    struct Source {
        var layers: [LayerRef]?
        /// A named local build context (`--build-context name=DIR`) when `layers` is nil.
        var directory: String? = nil
        /// Identity: "context", a named context, the stage's last cache key, or the image ID.
        var identity: String
        var name: String
    }

    /// A mounted source root, released after the copy.
    struct MountedSource {
        var root: CopySourceRoot
        var snapshot: (any RootSnapshot)?
        func release() async {
            if let s = snapshot {
                try? await s.unmount()
                await s.discard()
            }
        }
    }

    func copySource(_ from: CopyFrom?, step: Step) async throws -> Source {
        switch from {
        case nil:
            return Source(layers: nil, identity: "context", name: "context")
        case .stage(let j)?:
            let r = try await deps.result(of: j)
            return Source(layers: r.layers, identity: r.key.digest.description, name: plan.displayName(j))
        case .image(let written)?:
            if let dir = request.extensions.contextDirectory(written) {
                return Source(layers: nil, directory: dir, identity: "context:" + written, name: written)
            }
            let ref = request.extensions.imageReference(written)
            let found: ResolvedImage?
            do {
                found = try await engine.store.resolveImage(ref)
            } catch let e as BasePullError {
                throw fail(step, "--from=\(ref) is neither a stage defined before this one nor an image in the store, and pulling it failed (\(e.reason))")
            }
            guard let img = found else {
                throw fail(step, "--from=\(ref) is neither a stage defined before this one nor an image in the store")
            }
            return Source(layers: img.layers, identity: img.id.description, name: ref)
        }
    }

    func mountSource(_ source: Source) async throws -> MountedSource {
        guard let layers = source.layers else {
            if let dir = source.directory { return MountedSource(root: .context(dir), snapshot: nil) }
            return MountedSource(root: .context(request.contextDirectory), snapshot: nil)
        }
        let lowers = try await engine.store.lowerDirectories(layers)
        let snap = try await engine.snapshotter.readOnly(lowers: lowers)
        return MountedSource(root: .rootfs(snap.root), snapshot: snap)
    }
}
