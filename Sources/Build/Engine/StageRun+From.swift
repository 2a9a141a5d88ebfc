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
        var baseIdentity = "scratch"
        // What this stage builds for: `FROM --platform`, else `build --platform`, else the host.
        // `asked` is that platform when one was asked for: a base must then be of it.
        let target = stage.platform ?? plan.targetPlatform
        let asked = askedPlatform
        switch stage.base {
        case .scratch:
            key = .scratch(platform: target == OCI.Platform.host.normalized ? nil : target.description)
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
                found = try await engine.store.resolveImage(ref, platform: asked)
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
            let actual = resolved.image.platform
            if let wanted = asked, !actual.matches(wanted) {
                // The store holds one platform per name: never build a wanted-platform image
                // on a base of another CPU.
                await engine.progress.emit(.failed(step: step, message: "wrong platform"))
                let flag = stage.platform != nil ? "" : " (build --platform \(wanted))"
                throw BuildError.stepFailed(file: file, line: stage.line,
                                            instruction: stage.platform != nil ? "FROM --platform=\(wanted) \(ref)" : "FROM \(ref)",
                                            reason: "the store's \(ref) is \(actual), not \(wanted)\(flag); "
                                                + "import or pull the \(wanted) image under a name of its own (slipway import --platform \(wanted), "
                                                + "slipway pull --platform \(wanted)) and use that")
            }
            if asked == nil, !actual.sameOSAndArchitecture(target) {
                // BuildKit's InvalidBaseImagePlatform build check: a warning, and the stage
                // goes on with the base's platform (its RUN steps emulated).
                let warning = BuildCheckWarning(rule: "InvalidBaseImagePlatform", line: stage.line,
                                                message: "Base image \(ref) was pulled with platform \"\(actual)\", expected \"\(target)\" for current build")
                if let onCheck = request.onCheck {
                    do { try await onCheck(warning) } catch {
                        await engine.progress.emit(.failed(step: step, message: "\(warning.rule)"))
                        throw error
                    }
                } else {
                    await engine.progress.emit(.note("WARN: \(warning.rule): \(warning.message) (\(file):\(warning.line))"))
                }
            }
            await engine.progress.emit(.finished(step: step))
            base = resolved.image
            layers = resolved.layers
            key = .image(configDigest: resolved.id)
            baseIdentity = "image \(ref) \(resolved.id)"
            triggers = resolved.onBuild
            created = resolved.image.history.compactMap(\.created).max() ?? created
        case .stage(let j):
            let parent = try await deps.result(of: j)
            baseIdentity = "stage \(plan.displayName(j))"
            base = parent.image
            layers = parent.layers
            key = parent.key
            inheritedScope = parent.scope.inherited()
            triggers = parent.image.config.onBuild ?? []
            created = parent.image.history.compactMap(\.created).max() ?? created
        }

        var machine = StageConfigMachine(base: base)
        if isScratch {
            // `FROM [--platform=P] scratch` makes an image of the stage's platform.
            machine.image.setPlatform(target)
        }
        machine.epoch = created
        // The scope starts from the base's environment (PATH included), or, for a stage built
        // on another, carries that stage's variables over (the frontend's rule).
        let scope = inheritedScope ?? plan.newScope(baseImageEnv: machine.image.config.env)
        var state = State(layers: layers, key: key, machine: machine, scope: scope, triggers: triggers, labels: labels)
        state.base = baseIdentity
        return state
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
