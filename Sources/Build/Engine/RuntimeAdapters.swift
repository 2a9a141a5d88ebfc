import Foundation

/// `RootSnapshot` over the runtime module's `OverlaySnapshot`.
struct OverlayRootSnapshot: RootSnapshot {
    let snapshot: OverlaySnapshot
    let writable: Bool

    var root: String { snapshot.mergedDir }
    var upper: String? { writable ? snapshot.upperDir : nil }
    func unmount() async throws { try snapshot.unmount() }
    func discard() async { snapshot.remove() }
}

/// Overlay snapshots for COPY/ADD/WORKDIR steps and COPY --from sources. Snapshots are made
/// under `scratchDirectory`, which must be on the store's filesystem so an upper directory can
/// be renamed into the store as the layer's unpacked form.
public struct OverlaySnapshotter: Snapshotter {
    public let scratchDirectory: String

    public init(scratchDirectory: String) {
        self.scratchDirectory = scratchDirectory
    }

    public func writable(lowers: [String]) async throws -> any RootSnapshot {
        let s = try OverlaySnapshot(lowerDirs: lowers, in: scratchDirectory)
        do { try s.mount() } catch {
            s.remove()
            throw error
        }
        return OverlayRootSnapshot(snapshot: s, writable: true)
    }

    public func readOnly(lowers: [String]) async throws -> any RootSnapshot {
        // A writable overlay whose changes are thrown away: COPY only reads from it.
        let s = try OverlaySnapshot(lowerDirs: lowers, in: scratchDirectory)
        do { try s.mount() } catch {
            s.remove()
            throw error
        }
        return OverlayRootSnapshot(snapshot: s, writable: false)
    }
}

/// RUN steps through the runtime module's `RunExecutor` (runc or crun over overlayfs).
public struct RuntimeStepExecutor: StepExecutor {
    public let executor: RunExecutor

    public init(executor: RunExecutor) {
        self.executor = executor
    }

    public func run(_ process: StepProcess, lowers: [String], output: @escaping @Sendable (String) -> Void) async throws -> any RootSnapshot {
        var spec = RunSpec(args: process.argv, env: process.env, workingDir: process.workdir, user: process.user,
                           hostname: "slipway", network: process.network, mounts: process.mounts, trustHostCertificates: true)
        spec.tmpfs = process.tmpfs
        spec.insecure = process.insecure
        spec.bundleDirectory = process.bundleDirectory
        do {
            let result = try await executor.runStep(spec, lowerDirs: lowers) { line in output(line.text) }
            return OverlayRootSnapshot(snapshot: result.snapshot, writable: true)
        } catch RuntimeError.processFailed(_, let code, let lines) {
            throw StepExitError(status: code, tail: lines)
        }
    }
}
