import OCI

/// BuildKit's `COPY --link` / `ADD --link` (dockerfile2llb `dispatchCopy`): the files are
/// copied into an empty directory (`llb.Scratch().File(copy)`) and that directory's layer is
/// merged on top of the stage (`llb.Merge`). The layer therefore cannot depend on anything
/// below it, and neither does its cache key: a new base image or an edited earlier step reuses
/// the cached layer, byte for byte. These are the pure rules; `StageRun+Copy` runs the step and
/// `CacheKey.linkLayer` / `CacheKey.link` key it.
public enum LinkedCopy {
    /// Whether the step really links. BuildKit links only when the worker has MergeOp (ours
    /// does) and no `--chmod` is given (`cfg.link && cfg.chmod == ""`): with `--chmod` the flag
    /// is silently ignored and the step is a plain COPY on top of the parent.
    public static func applies(to copy: CopyStep) -> Bool {
        copy.spec.link && (copy.spec.chmod ?? "").isEmpty
    }

    /// `--chown` with `--link`: only numeric ids (and `root`) can be used, because the copy runs
    /// in an empty root that has no /etc/passwd or /etc/group. BuildKit's solver fails such a
    /// step with "invalid user index: -1" (moby/buildkit#2987; rejected up front since #7134);
    /// we reject it up front too, with a message that says what to do. Returns the reason, or
    /// nil when the value is usable.
    public static func chownProblem(_ chown: String?) -> String? {
        guard let chown, !chown.isEmpty else { return nil }
        let parts = chown.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let names = parts.filter { !$0.isEmpty && Ownership.numericID($0) == nil }
        guard !names.isEmpty else { return nil }
        return "--chown=\(chown) names \(names.map { "\"\($0)\"" }.joined(separator: " and ")), but with --link the files "
            + "are copied into an empty layer that has no /etc/passwd or /etc/group to look names up in; "
            + "use numeric ids (--chown=UID:GID) or drop --link"
    }
}
