import Dockerfile
import Foundation
import OCI

extension StageRun {
    /// RUN: the program comes from the frontend (`Run.program`: exec form, shell text, or a
    /// heredoc with a shebang run as a file), mounts from the expanded `Run.mounts`, the
    /// environment from the stage's scope (ENV and ARG values in the order BuildKit's state
    /// has them). Keyed by `CacheKey.run`.
    func dispatchRun(_ run: Run, step: Step, state: inout State) async throws -> Dispatched {
        // A foreign image's programs run through QEMU registered in binfmt_misc (F flag). Say
        // what is missing instead of letting the runtime fail with "exec format error".
        let image = state.machine.image
        let platform = image.platform
        var emulator: String?
        if !Emulation.isNative(platform) {
            do { emulator = try Emulation.interpreter(for: platform) } catch let e as EmulationError { throw fail(step, e.description) }
        }
        var script: InlineScript?
        let argv: [String]
        let shown: String
        switch run.program {
        case .exec(let args):
            argv = args
            shown = args.joined(separator: " ")
        case .shell(let text):
            argv = state.machine.withShell([text], shellForm: true)
            shown = text
        case .script(let name, let content):
            // BuildKit writes a shebang heredoc to a file (/dev/pipes/NAME) and runs that.
            let s = InlineScript(name: name, data: content)
            script = s
            argv = state.machine.withShell([s.path], shellForm: true)
            shown = s.path
        }
        let network: NetworkMode
        if run.network == "default" {
            network = request.network
        } else {
            guard let m = NetworkMode(rawValue: run.network) else {
                throw fail(step, "unsupported --network=\(run.network) (use default, host or none)")
            }
            network = m
        }
        let runEnv = state.scope.environment.keyValueStrings
        let user = image.config.user
        let workdir = image.config.workingDir.isEmpty ? "/" : image.config.workingDir
        let runMounts = try await resolveRunMounts(run, script: script, step: step, workdir: workdir)
        let key = CacheKey.run(parent: state.key, layers: state.layerDiffIDs, argv: argv, env: runEnv, user: user,
                               workdir: workdir, network: network.rawValue, security: run.security,
                               script: script.map { ($0.name, $0.data) }, mounts: runMounts.keyParts,
                               hostCABundle: request.hostCABundle, platform: platform.description)
        var process = StepProcess(argv: argv, env: runEnv, user: user, workdir: workdir, network: network)
        process.hostCABundle = request.hostCABundle
        let line = step.startLine
        let label = state.labels.next("RUN \(shown)")
        let outcome = try await filesystemStep(key: key, label: label, layers: state.layers, step: step,
                                               explain: explain(step, label: label, state: state)) {
            lowers, stepID in
            let active = try await activateRunMounts(runMounts, line: line)
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
                let note = emulator.flatMap { Emulation.crashNote(status: e.status, interpreter: $0) } ?? e.note
                throw BuildError.runFailed(file: file, line: line, command: shown, status: e.status, tail: tail, note: note)
            } catch {
                await active.release()
                throw error
            }
        }
        if outcome.ran { state.executedRuns += 1 }
        state.machine.epoch = outcome.created
        state.machine.commitLayerStep(state.machine.runCreatedBy(argv, args: state.scope.args, env: state.scope.environment),
                                      hasLayer: outcome.layer != nil)
        return Dispatched(key: key, layer: outcome.layer, ran: outcome.ran, stepID: outcome.id)
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
}
