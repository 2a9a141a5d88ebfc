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
        let user = state.machine.image.config.user
        let key = CacheKey.workdir(parent: state.key, layers: state.layerDiffIDs, path: wd, user: user)
        let label = state.labels.next("WORKDIR \(wd)")
        let outcome = try await filesystemStep(key: key, label: label, layers: state.layers, step: step,
                                               explain: explain(step, label: label, state: state)) { lowers, _ in
            try await inSnapshot(lowers) { root in
                // dockerfile2llb's Mkdir(WithParents, WithUser): missing directories belong to
                // the stage's USER, looked up in the image's /etc/passwd and /etc/group.
                let owner = user.isEmpty ? ResolvedUser(uid: 0, gid: 0, home: "/")
                    : try ResolvedUser.resolve(user, passwd: RootFS.readFile(root: root, "/etc/passwd"),
                                               group: RootFS.readFile(root: root, "/etc/group"))
                // Resolved inside the root as if chrooted: a symlink in the image (dangling or
                // absolute) leads to a directory made inside the rootfs, never on the host.
                try RootFS.makeDirectories(root: root, wd, uid: owner.uid, gid: owner.gid)
            }
        }
        state.machine.epoch = outcome.created
        state.machine.commitLayerStep("WORKDIR \(wd)", hasLayer: outcome.layer != nil, buildkitSuffix: false)
        return Dispatched(key: key, layer: outcome.layer, ran: outcome.ran, stepID: outcome.id)
    }
}
