import Dockerfile
import Foundation

extension StageRun {
    /// WORKDIR: resolves the (expanded) path against the current one and creates it in a
    /// snapshot; BuildKit makes no layer for `/`. Keyed by `CacheKey.workdir`.
    func dispatchWorkdir(_ path: String, step: Step, state: inout State) async throws -> Dispatched {
        let wd = state.machine.workdir(path)
        if wd == "/" {
            state.machine.commitLayerStep("WORKDIR /", hasLayer: false, buildkitSuffix: false)
            return Dispatched(key: state.key)
        }
        let key = CacheKey.workdir(parent: state.key, layers: state.layerDiffIDs, path: wd, user: state.machine.image.config.user)
        let label = state.labels.next("WORKDIR \(wd)")
        let outcome = try await filesystemStep(key: key, label: label, layers: state.layers, step: step) { lowers, _ in
            try await inSnapshot(lowers) { root in
                try FileManager.default.createDirectory(atPath: root + wd, withIntermediateDirectories: true)
            }
        }
        state.machine.epoch = outcome.created
        state.machine.commitLayerStep("WORKDIR \(wd)", hasLayer: outcome.layer != nil, buildkitSuffix: false)
        return Dispatched(key: key, layer: outcome.layer, ran: outcome.ran)
    }
}
