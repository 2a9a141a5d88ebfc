import Dockerfile
import Foundation
import OCI

extension StageRun {
    /// FROM: resolves the base (scratch, an image — pulled when missing — or an earlier
    /// stage) and starts the stage's config, scope and key from it.
    func dispatchFrom() async throws -> State {
        let name = plan.displayName(index)
        let fsSteps = stage.steps.filter { step in
            switch step.instruction {
            case .run, .copy, .add, .workdir: return true
            default: return false
            }
        }.count
        let isScratch = stage.base == .scratch
        // BuildKit leaves the stage name out when the Dockerfile has a single stage.
        var labels = StepLabels(prefix: plan.stages.count == 1 ? "" : name + " ", total: fsSteps + (isScratch ? 0 : 1))

        let key: CacheKey
        var layers: [LayerRef] = []
        var base: StageImage?
        var triggers: [String] = []
        var created = Date(timeIntervalSince1970: 0)
        var inheritedScope: StageScope?
        switch stage.base {
        case .scratch:
            let p = stage.platform.flatMap { $0 == .host ? nil : $0.description }
            key = .scratch(platform: p)
        case .image(let written):
            let instruction = "FROM \(stage.baseText)"
            if request.extensions.contextDirectory(written) != nil {
                throw BuildError.stepFailed(file: file, line: stage.line, instruction: instruction,
                                            reason: "build context \(written) is a directory: use it with COPY --from or RUN --mount, or pass docker-image:// or oci-layout://")
            }
            let ref = request.extensions.imageReference(written)
            let step = await engine.progress.newStep()
            await engine.progress.emit(.started(step: step, name: labels.next("FROM \(ref)")))
            let found: ResolvedImage?
            do {
                found = try await engine.store.resolveImage(ref)
            } catch let e as BasePullError {
                await engine.progress.emit(.failed(step: step, message: "not found; pull failed"))
                throw BuildError.missingBaseImage(file: file, line: stage.line, reference: ref, pullError: e.reason)
            } catch let e as CancellationError {
                throw e
            } catch {
                // A malformed name, an unreadable store: the line and the base, then the reason.
                await engine.progress.emit(.failed(step: step, message: "\(error)"))
                throw BuildError.stepFailed(file: file, line: stage.line, instruction: "FROM \(ref)", reason: "\(error)")
            }
            guard let resolved = found else {
                await engine.progress.emit(.failed(step: step, message: "not found"))
                throw BuildError.missingBaseImage(file: file, line: stage.line, reference: ref)
            }
            if let wanted = stage.platform, !resolved.image.matches(wanted) {
                await engine.progress.emit(.failed(step: step, message: "wrong platform"))
                throw BuildError.stepFailed(file: file, line: stage.line, instruction: "FROM --platform=\(wanted) \(ref)",
                                            reason: "the store's \(ref) is \(resolved.image.platformText), not \(wanted); "
                                                + "import or pull the \(wanted) image under a name of its own and use that")
            }
            await engine.progress.emit(.finished(step: step))
            base = resolved.image
            layers = resolved.layers
            key = .image(configDigest: resolved.id)
            triggers = resolved.onBuild
            created = resolved.image.history.compactMap(\.created).max() ?? created
        case .stage(let j):
            let parent = try await deps.result(of: j)
            base = parent.image
            layers = parent.layers
            key = parent.key
            inheritedScope = parent.scope.inherited()
            triggers = parent.image.config.onBuild ?? []
            created = parent.image.history.compactMap(\.created).max() ?? created
        }

        var machine = StageConfigMachine(base: base)
        if isScratch, let p = stage.platform {
            // `FROM --platform=P scratch` makes a P image (e.g. for COPY-only cross builds).
            machine.image.os = p.os
            machine.image.architecture = p.architecture
            machine.image.variant = p.variant.isEmpty ? nil : p.variant
        }
        machine.epoch = created
        // The scope starts from the base's environment (PATH included), or, for a stage built
        // on another, carries that stage's variables over (the frontend's rule).
        let scope = inheritedScope ?? plan.newScope(baseImageEnv: machine.image.config.env)
        return State(layers: layers, key: key, machine: machine, scope: scope, triggers: triggers, labels: labels)
    }

    /// The base's ONBUILD triggers as the frontend's steps, run first (line = this FROM's).
    func triggerSteps(_ triggers: [String]) throws -> [Step] {
        try triggers.map { trigger in
            do {
                let model = try DockerfileModel.load("FROM scratch\n" + trigger + "\n", fileName: file)
                guard var step = model.stages.first?.steps.first else {
                    throw BuildError.stepFailed(file: file, line: stage.line, instruction: "ONBUILD \(trigger)", reason: "trigger is empty")
                }
                // Messages point at the FROM that ran the trigger and say it was one.
                step.node.startLine = stage.line
                step.node.endLine = stage.line
                step.node.original = "ONBUILD " + step.node.original
                return step
            } catch let e as BuildError {
                throw e
            } catch {
                throw BuildError.stepFailed(file: file, line: stage.line, instruction: "ONBUILD \(trigger)", reason: "\(error)")
            }
        }
    }
}
