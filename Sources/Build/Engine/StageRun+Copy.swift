import Dockerfile
import Foundation
import OCI

extension StageRun {
    /// COPY/ADD: the expanded frontend instruction as a `CopyStep`, its sources keyed by the
    /// content they select (for `--from` a stage or image too, as BuildKit does; memoised per
    /// (source layers, selection), so a cache hit mounts nothing — `StageRun+FromDigest`).
    /// A linked copy (`LinkedCopy`) makes its layer in an empty root under a key without the
    /// parent; the stage continues with `CacheKey.link`.
    func dispatchCopy(_ instruction: Instruction, step: Step, state: inout State) async throws -> Dispatched {
        guard let copy = CopyStep(instruction, line: step.startLine, dockerfile: file, resolveFrom: stage.resolve(from:)) else {
            throw fail(step, "not a COPY or ADD")
        }
        let workdir = state.machine.image.config.workingDir.isEmpty ? "/" : state.machine.image.config.workingDir
        let source = try await copySource(copy.from, step: step)
        let sourceDigest: Digest
        do {
            sourceDigest = try await contentDigest(copy, source: source)
        } catch let e as BuildError {
            throw e
        } catch {
            throw located(error, step)
        }
        let label = state.labels.next(copy.shown)
        // The selection, listed for a miss explanation only when the step misses (local contexts).
        let files: (() async -> SelectionListing?)? = source.layers == nil ? {
            try? await engine.copier.sourceListing(copy, from: .context(source.directory ?? request.contextDirectory))
        } : nil
        let why = explain(step, label: label, state: state, files: files)
        let key: CacheKey
        let outcome: StepOutcome
        if LinkedCopy.applies(to: copy) {
            if let problem = LinkedCopy.chownProblem(copy.spec.chown) { throw fail(step, problem) }
            // The layer's key leaves the parent out; the stage's key chains both.
            let layerKey = CacheKey.linkLayer(copy, workdir: workdir, sourceIdentity: source.keyIdentity, sourceDigest: sourceDigest)
            key = .link(parent: state.key, layerKey: layerKey)
            outcome = try await filesystemStep(key: layerKey, label: label, layers: [], step: step, explain: why) { _, _ in
                // No lowers: the copy lands in an empty root, so nothing of the parent
                // (files, symlinks in the destination path, /etc/passwd) can leak in.
                try await copyInSnapshot(copy, source: source, workdir: workdir, lowers: [], step: step)
            }
        } else {
            key = .copy(parent: state.key, layers: state.layerDiffIDs, copy, workdir: workdir,
                        sourceIdentity: source.keyIdentity, sourceDigest: sourceDigest)
            outcome = try await filesystemStep(key: key, label: label, layers: state.layers, step: step, explain: why) { lowers, _ in
                try await copyInSnapshot(copy, source: source, workdir: workdir, lowers: lowers, step: step)
            }
        }
        state.machine.epoch = outcome.created
        state.machine.commitLayerStep(StageConfigMachine.copyCreatedBy(copy), hasLayer: outcome.layer != nil)
        return Dispatched(key: key, layer: outcome.layer, ran: outcome.ran, stepID: outcome.id)
    }

    /// Copy errors already say "Dockerfile:N: COPY ..."; others get the location added.
    func located(_ error: Error, _ step: Step) -> BuildError {
        let text = "\(error)"
        return text.hasPrefix("\(file):") ? .located(text) : fail(step, text)
    }

    /// Runs one COPY/ADD into a fresh writable snapshot over `lowers` (the stage's layers for a
    /// plain copy, none for `--link`) and returns it unmounted, its upper directory holding the
    /// new files. The `--from` source is mounted for the copy only and released on every path.
    func copyInSnapshot(_ copy: CopyStep, source: Source, workdir: String, lowers: [String],
                        step: Step) async throws -> any RootSnapshot {
        let mounted = try await mountSource(source)
        do {
            let snap = try await inSnapshot(lowers) { root in
                do {
                    try await engine.copier.copy(copy, from: mounted.root, into: root, workdir: workdir)
                } catch let e as BuildError {
                    throw e
                } catch {
                    throw located(error, step)
                }
            }
            await mounted.release()
            return snap
        } catch {
            await mounted.release()
            throw error
        }
    }
}
