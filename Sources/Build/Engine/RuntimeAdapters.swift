import Foundation
import OCI
import System

/// `RootSnapshot` over the runtime module's `OverlaySnapshot`.
struct OverlayRootSnapshot: RootSnapshot {
    let snapshot: OverlaySnapshot
    let writable: Bool
    var cpuSeconds: Double? = nil

    var root: String { snapshot.mergedDir }
    var upper: String? { writable ? snapshot.upperDir : nil }
    // umount2 and the recursive delete block (overlayfs syncs, big trees): off the pool.
    func unmount() async throws {
        let snapshot = self.snapshot
        try await runOffPool { try snapshot.unmount() }
    }
    func discard() async {
        let snapshot = self.snapshot
        _ = try? await runOffPool { snapshot.remove() }
    }
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
        OverlayRootSnapshot(snapshot: try await mounted(lowers: lowers), writable: true)
    }

    public func readOnly(lowers: [String]) async throws -> any RootSnapshot {
        // A writable overlay whose changes are thrown away: COPY only reads from it.
        OverlayRootSnapshot(snapshot: try await mounted(lowers: lowers), writable: false)
    }

    /// A new overlay snapshot, mounted; made and mounted off the cooperative pool (mount(2)
    /// and mkdir block).
    func mounted(lowers: [String]) async throws -> OverlaySnapshot {
        let scratch = scratchDirectory
        return try await runOffPool {
            let s = try OverlaySnapshot(lowerDirs: lowers, in: scratch)
            do { try s.mount() } catch {
                s.remove()
                throw error
            }
            return s
        }
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
                           hostname: "slipway", network: process.network, mounts: process.mounts,
                           trustHostCertificates: process.hostCABundle)
        spec.tmpfs = process.tmpfs
        spec.insecure = process.insecure
        spec.bundleDirectory = process.bundleDirectory
        do {
            let result = try await executor.runStep(spec, lowerDirs: lowers) { line in output(line.text) }
            return OverlayRootSnapshot(snapshot: result.snapshot, writable: true, cpuSeconds: result.cpuSeconds)
        } catch RuntimeError.processFailed(_, let code, let lines) {
            throw StepExitError(status: code, tail: lines, note: ScratchSpace.lowSpaceNote(executor.scratchDirectory))
        }
    }
}
