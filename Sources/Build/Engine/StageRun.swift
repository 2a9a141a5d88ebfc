import Foundation
import OCI

/// Executes one stage: resolves its base, then each step in order, consulting the cache for
/// every filesystem step. Every snapshot it mounts is unmounted and removed before it returns,
/// whether the step succeeded, failed or was cancelled.
struct StageRun {
    let engine: BuildEngine
    let request: BuildRequest
    let index: Int
    let deps: StageScheduler.Dependencies<StageResult>

    var plan: BuildPlan { request.plan }
    var stage: StagePlan { plan.stages[index] }
    var file: String { plan.file }

    func execute() async throws -> StageResult {
        let name = plan.displayName(index)
        var layers: [LayerRef] = []
        var baseImage: StageImage?
        var inheritedArgs: [(key: String, value: String?)] = []
        var key: Digest
        var triggers: [String] = []
        var created = Date(timeIntervalSince1970: 0)

        let fsSteps = stage.steps.filter { $0.op.isFilesystemStep }.count
        let total = fsSteps + (stage.base == .scratch ? 0 : 1)
        var number = 0
        func label(_ text: String) -> String {
            number += 1
            // BuildKit leaves the stage name out when the Dockerfile has a single stage.
            let prefix = plan.stages.count == 1 ? "" : name + " "
            return "[\(prefix)\(number)/\(max(total, number))] \(text)"
        }

        switch stage.base {
        case .scratch:
            key = Digest.sha256("scratch")
            if let p = stage.platform, p != .host { key = Digest.sha256("scratch " + p.description) }
        case .image(let raw):
            let written = try expandWord(raw, plan.metaArgs, line: stage.line, instruction: "FROM \(raw)")
            if request.extensions.contextDirectory(written) != nil {
                throw BuildError.stepFailed(file: file, line: stage.line, instruction: "FROM \(raw)",
                                            reason: "build context \(written) is a directory: use it with COPY --from or RUN --mount, or pass docker-image:// or oci-layout://")
            }
            let ref = request.extensions.imageReference(written)
            let step = await engine.progress.newStep()
            await engine.progress.emit(.started(step: step, name: label("FROM \(ref)")))
            let found: ResolvedImage?
            do {
                found = try await engine.store.resolveImage(ref)
            } catch let e as BasePullError {
                await engine.progress.emit(.failed(step: step, message: "not found; pull failed"))
                throw BuildError.missingBaseImage(file: file, line: stage.line, reference: ref, pullError: e.reason)
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
            baseImage = resolved.image
            layers = resolved.layers
            key = resolved.id
            triggers = resolved.onBuild
            created = resolved.image.history.compactMap(\.created).max() ?? created
        case .stage(let j):
            let parent = try await deps.result(of: j)
            baseImage = parent.image
            layers = parent.layers
            key = parent.key
            inheritedArgs = parent.buildArgs
            triggers = parent.image.config.onBuild ?? []
            created = parent.image.history.compactMap(\.created).max() ?? created
        }

        var machine = StageConfigMachine(base: baseImage, inheritedArgs: inheritedArgs)
        if stage.base == .scratch, let p = stage.platform {
            // `FROM --platform=P scratch` makes a P image (e.g. for COPY-only cross builds).
            machine.image.os = p.os
            machine.image.architecture = p.architecture
            machine.image.variant = p.variant.isEmpty ? nil : p.variant
        }
        machine.epoch = created
        var steps: [PlannedStep] = []
        for t in triggers {
            do { steps.append(try engine.hooks.parseTrigger(t, stage.line)) } catch {
                throw BuildError.stepFailed(file: file, line: stage.line, instruction: "ONBUILD \(t)", reason: "\(error)")
            }
        }
        steps += stage.steps
        var executedRuns = 0

        for step in steps {
            try Task.checkCancellation()
            let env = machine.expansionEnv
            func word(_ w: String) throws -> String {
                try expandWord(w, env, line: step.line, instruction: step.text)
            }
            /// Copy errors already say "Dockerfile:N: COPY ..."; others get the location added.
            func located(_ error: Error) -> BuildError {
                let text = "\(error)"
                return text.hasPrefix("\(file):") ? .located(text) : fail(text)
            }
            func fail(_ reason: String) -> BuildError {
                .stepFailed(file: file, line: step.line, instruction: step.text, reason: reason)
            }
            switch step.op {
            case .env(let pairs):
                machine.env(try pairs.map { ($0.key, try word($0.value)) })
            case .label(let pairs):
                machine.label(try pairs.map { (try word($0.key), try word($0.value)) })
            case .arg(let defs):
                var resolved: [(key: String, value: String?)] = []
                for d in defs {
                    if let v = request.buildArgs[d.key] {
                        resolved.append((d.key, v))
                    } else if let dv = d.defaultValue {
                        resolved.append((d.key, try word(dv)))
                        // Let later ARGs of the same instruction see this one.
                    } else {
                        resolved.append((d.key, plan.metaArgs[d.key]))
                    }
                }
                machine.arg(resolved)
            case .user(let u):
                machine.user(try word(u))
            case .expose(let ports):
                do { try machine.expose(try ports.map(word)) } catch let e as ConfigError { throw fail(e.description) }
            case .volume(let vols):
                do { try machine.volume(try vols.map(word)) } catch let e as ConfigError { throw fail(e.description) }
            case .stopSignal(let s):
                do { try machine.stopSignal(try word(s)) } catch let e as ConfigError { throw fail(e.description) }
            case .cmd(let args, let shellForm):
                machine.cmd(args, shellForm: shellForm)
            case .entrypoint(let args, let shellForm):
                machine.entrypoint(args, shellForm: shellForm)
            case .shell(let args):
                machine.shell(args)
            case .healthcheck(let hc):
                machine.healthcheck(hc)
            case .maintainer(let m):
                machine.maintainer(m)
            case .onbuild(let expr):
                machine.onbuild(expr)
            case .workdir(let raw):
                let wd = machine.workdir(try word(raw))
                if wd == "/" {
                    machine.commitLayerStep("WORKDIR /", hasLayer: false, buildkitSuffix: false)
                    break
                }
                key = StepKey.chain(key, ["WORKDIR", wd, machine.image.config.user])
                let outcome = try await filesystemStep(key: key, label: label("WORKDIR \(wd)"), layers: layers, step: step) { lowers, _ in
                    try await inSnapshot(lowers) { root in
                        try FileManager.default.createDirectory(atPath: root + wd, withIntermediateDirectories: true)
                    }
                }
                if let l = outcome.layer { layers.append(l) }
                machine.epoch = outcome.created
                machine.commitLayerStep("WORKDIR \(wd)", hasLayer: outcome.layer != nil, buildkitSuffix: false)
            case .run(let command, let shellForm, let stepNetwork):
                // No emulation (binfmt/QEMU): a foreign image's programs cannot run here. Say so
                // instead of letting the runtime fail with "exec format error".
                if machine.image.architecture != StageImage.hostArchitecture || machine.image.os != "linux" {
                    throw fail("this stage's platform is \(machine.image.platformText); RUN needs the host's "
                               + "(\(Platform.host)) because Slipway does not emulate other CPUs")
                }
                let argv = machine.withShell(command, shellForm: shellForm)
                let network: NetworkMode
                if let n = stepNetwork {
                    guard let m = NetworkMode(rawValue: n == "default" ? request.network.rawValue : n) else {
                        throw fail("unsupported --network=\(n) (use default, host or none)")
                    }
                    network = m
                } else {
                    network = request.network
                }
                let runEnv = machine.runEnvironment
                let user = machine.image.config.user
                let workdir = machine.image.config.workingDir.isEmpty ? "/" : machine.image.config.workingDir
                let runMounts = try await resolveRunMounts(step, env: env, workdir: workdir)
                key = StepKey.chain(key, ["RUN", network.rawValue, user, workdir] + argv + ["\u{0}"] + runEnv + runMounts.keyParts)
                let shown = shellForm ? command.joined(separator: " ") : argv.joined(separator: " ")
                var process = StepProcess(argv: argv, env: runEnv, user: user, workdir: workdir, network: network)
                let outcome = try await filesystemStep(key: key, label: label("RUN \(shown)"), layers: layers, step: step) {
                    lowers, stepID in
                    let active = try await activateRunMounts(runMounts, line: step.line)
                    process.mounts = active.binds
                    process.tmpfs = active.tmpfs
                    process.env += active.env
                    process.insecure = runMounts.insecure
                    process.bundleDirectory = active.bundleDirectory
                    do {
                        let snap = try await runProcess(process, lowers: lowers, step: stepID)
                        await active.release()
                        return snap
                    } catch let e as StepExitError {
                        await active.release()
                        var tail = await engine.progress.tail(of: stepID, count: 15)
                        if tail.isEmpty { tail = e.tail }
                        throw BuildError.runFailed(file: file, line: step.line, command: shown, status: e.status, tail: tail)
                    } catch {
                        await active.release()
                        throw error
                    }
                }
                if outcome.ran { executedRuns += 1 }
                if let l = outcome.layer { layers.append(l) }
                machine.epoch = outcome.created
                machine.commitLayerStep(machine.runCreatedBy(argv), hasLayer: outcome.layer != nil)
            case .copy(let raw):
                var op = raw
                op.sources = try raw.sources.map(word)
                op.dest = try word(raw.dest)
                op.chown = try raw.chown.map(word)
                op.chmod = try raw.chmod.map(word)
                try expandHeredocBodies(&op, env: env, step: step)
                let verb = op.isAdd ? "ADD" : "COPY"
                let workdir = machine.image.config.workingDir.isEmpty ? "/" : machine.image.config.workingDir
                let source = try await copySource(op.from, line: step.line, text: step.text)
                // Every source is keyed by the content it selects, as BuildKit does; for a stage
                // or image the digest is memoised per (layers, selection), so a cache hit does
                // not mount it (StageRun+FromDigest).
                let sourceDigest: Digest
                do {
                    sourceDigest = try await contentDigest(op, source: source)
                } catch let e as BuildError {
                    throw e
                } catch {
                    throw located(error)
                }
                let shownFrom = raw.fromText.map { "--from=\($0) " } ?? ""
                let linked = LinkedCopy.applies(to: op)
                let text = "\(verb) \(linked ? "--link " : "")\(shownFrom)\((op.sources + op.inline.map { "<<" + $0.name } + [op.dest]).joined(separator: " "))"
                let outcome: StepOutcome
                if linked {
                    if let problem = LinkedCopy.chownProblem(op.chown) { throw fail(problem) }
                    // The layer's key leaves the parent out; the stage's key chains both.
                    let layerKey = LinkedCopy.layerKey(op, workdir: workdir, sourceIdentity: source.keyIdentity, sourceDigest: sourceDigest)
                    key = LinkedCopy.stageKey(parent: key, layerKey: layerKey)
                    outcome = try await filesystemStep(key: layerKey, label: label(text), layers: [], step: step) { _, _ in
                        // No lowers: the copy lands in an empty root, so nothing of the parent
                        // (files, symlinks in the destination path, /etc/passwd) can leak in.
                        try await copyInSnapshot(op, source: source, workdir: workdir, lowers: [], step: step)
                    }
                } else {
                    key = StepKey.chain(key, [verb, op.dest, workdir, op.chown ?? "", op.chmod ?? "", source.keyIdentity,
                                              sourceDigest.description] + op.sources
                                              + op.inline.map { $0.name + "=" + $0.data } + op.excludes
                                              + LinkedCopy.optionParts(op))
                    outcome = try await filesystemStep(key: key, label: label(text), layers: layers, step: step) { lowers, _ in
                        try await copyInSnapshot(op, source: source, workdir: workdir, lowers: lowers, step: step)
                    }
                }
                if let l = outcome.layer { layers.append(l) }
                machine.epoch = outcome.created
                machine.commitLayerStep(StageConfigMachine.copyCreatedBy(op), hasLayer: outcome.layer != nil)
            }
            if !step.op.isFilesystemStep {
                key = StepKey.chain(key, ["META", step.text] + machine.expansionEnv.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
            }
        }
        return StageResult(image: machine.image, layers: layers, key: key, buildArgs: machine.buildArgs,
                           executedRuns: executedRuns)
    }

    // MARK: - steps

    struct StepOutcome {
        var layer: LayerRef?
        var ran: Bool
        var created: Date
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
    func filesystemStep(key: Digest, label: String, layers: [LayerRef], step: PlannedStep,
                        _ body: ([String], Int) async throws -> any RootSnapshot) async throws -> StepOutcome {
        let progress = engine.progress
        let id = await progress.newStep()
        // SOURCE_DATE_EPOCH changes the layer bytes (clamped mtimes) and times: its own records.
        let epoch = request.extensions.sourceDateEpoch
        let key = epoch.map { StepKey.chain(key, ["SOURCE_DATE_EPOCH=\($0)"]) } ?? key
        if !request.noCache, let hit = try await engine.store.cachedStep(key) {
            await progress.emit(.cached(step: id, name: label))
            return StepOutcome(layer: hit.layer, ran: false, created: hit.created)
        }
        await progress.emit(.started(step: id, name: label))
        do {
            var lowers: [String] = []
            for l in layers.reversed() { lowers.append(try await engine.store.layerDirectory(l)) }
            let snap = try await body(lowers, id)
            let layer: LayerRef?
            do {
                guard let upper = snap.upper else {
                    throw BuildError.stepFailed(file: file, line: step.line, instruction: step.text, reason: "snapshot has no upper directory")
                }
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
            await progress.emit(.finished(step: id))
            return StepOutcome(layer: layer, ran: true, created: now)
        } catch {
            let message: String
            if case BuildError.runFailed(_, _, _, let status, _) = error { message = "exit code \(status)" } else { message = "\(error)" }
            await progress.emit(.failed(step: id, message: message))
            if error is CancellationError { throw BuildError.cancelled }
            if error is BuildError { throw error }
            throw BuildError.stepFailed(file: file, line: step.line, instruction: step.text, reason: "\(error)")
        }
    }

    /// Runs a RUN process, forwarding its output lines to the progress reporter in order.
    func runProcess(_ process: StepProcess, lowers: [String], step: Int) async throws -> any RootSnapshot {
        let (stream, continuation) = AsyncStream<String>.makeStream()
        let progress = engine.progress
        let forwarder = Task {
            for await line in stream { await progress.emit(.output(step: step, line: line)) }
        }
        do {
            let snap = try await engine.executor.run(process, lowers: lowers) { line in continuation.yield(line) }
            continuation.finish()
            await forwarder.value
            return snap
        } catch {
            continuation.finish()
            await forwarder.value
            throw error
        }
    }

    /// Where a COPY reads from: the context (`layers == nil`) or a stage's / image's layers.
    struct Source {
        var layers: [LayerRef]?
        /// A named local build context (`--build-context name=DIR`) when `layers` is nil.
        var directory: String? = nil
        /// Cache identity: "context", the stage's last cache key, or the image ID.
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

    func copySource(_ from: CopyFrom?, line: Int, text: String) async throws -> Source {
        switch from {
        case nil:
            return Source(layers: nil, identity: "context", name: "context")
        case .stage(let j)?:
            let r = try await deps.result(of: j)
            return Source(layers: r.layers, identity: r.key.description, name: plan.displayName(j))
        case .image(let written)?:
            if let dir = request.extensions.contextDirectory(written) {
                return Source(layers: nil, directory: dir, identity: "context:" + written, name: written)
            }
            let ref = request.extensions.imageReference(written)
            let found: ResolvedImage?
            do {
                found = try await engine.store.resolveImage(ref)
            } catch let e as BasePullError {
                throw BuildError.stepFailed(file: file, line: line, instruction: text,
                                            reason: "--from=\(ref) is neither a stage defined before this one nor an image in the store, and pulling it failed (\(e.reason))")
            }
            guard let img = found else {
                throw BuildError.stepFailed(file: file, line: line, instruction: text,
                                            reason: "--from=\(ref) is neither a stage defined before this one nor an image in the store")
            }
            return Source(layers: img.layers, identity: img.id.description, name: ref)
        }
    }

    func mountSource(_ source: Source) async throws -> MountedSource {
        guard let layers = source.layers else {
            if let dir = source.directory { return MountedSource(root: .context(dir), snapshot: nil) }
            return MountedSource(root: .context(request.contextDirectory), snapshot: nil)
        }
        var lowers: [String] = []
        for l in layers.reversed() { lowers.append(try await engine.store.layerDirectory(l)) }
        let snap = try await engine.snapshotter.readOnly(lowers: lowers)
        return MountedSource(root: .rootfs(snap.root), snapshot: snap)
    }

    func expandWord(_ w: String, _ env: [String: String], line: Int, instruction: String) throws -> String {
        // The shell lexer also removes quotes (ENV B="two words" stores `two words`, as BuildKit does).
        guard w.contains("$") || w.contains("\\") || w.contains("\"") || w.contains("'") else { return w }
        do {
            return try engine.hooks.expand(w, env)
        } catch {
            throw BuildError.stepFailed(file: file, line: line, instruction: instruction, reason: "\(error)")
        }
    }
}

/// Cache keys: each step's key hashes its parent's key with the step's full description.
public enum StepKey {
    public static func chain(_ parent: Digest, _ parts: [String]) -> Digest {
        var s = parent.description
        for p in parts {
            s += "\n"
            s += p.replacingOccurrences(of: "\n", with: "\\n")
        }
        return Digest.sha256(s)
    }
}
