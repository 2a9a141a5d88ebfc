extension StageRun {
    /// Runs one COPY/ADD into a fresh writable snapshot over `lowers` (the stage's layers for a
    /// plain copy, none for `--link`) and returns it unmounted, its upper directory holding the
    /// new files. The `--from` source is mounted for the copy only and released on every path.
    func copyInSnapshot(_ op: CopyOp, source: Source, workdir: String, lowers: [String],
                        step: PlannedStep) async throws -> any RootSnapshot {
        let mounted = try await mountSource(source)
        do {
            let snap = try await inSnapshot(lowers) { root in
                do {
                    try await engine.copier.copy(op, from: mounted.root, into: root, workdir: workdir)
                } catch let e as BuildError {
                    throw e
                } catch {
                    // Copy errors already say "Dockerfile:N: COPY ..."; others get the location.
                    let text = "\(error)"
                    throw text.hasPrefix("\(file):") ? BuildError.located(text)
                        : BuildError.stepFailed(file: file, line: step.line, instruction: step.text, reason: text)
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
