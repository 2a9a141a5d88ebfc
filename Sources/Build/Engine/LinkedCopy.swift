import OCI

/// BuildKit's `COPY --link` / `ADD --link` (dockerfile2llb `dispatchCopy`): the files are
/// copied into an empty directory (`llb.Scratch().File(copy)`) and that directory's layer is
/// merged on top of the stage (`llb.Merge`). The layer therefore cannot depend on anything
/// below it, and neither does its cache key: a new base image or an edited earlier step reuses
/// the cached layer, byte for byte. These are the pure rules; `StageRun+Link` runs the step.
public enum LinkedCopy {
    /// Whether the step really links. BuildKit links only when the worker has MergeOp (ours
    /// does) and no `--chmod` is given (`cfg.link && cfg.chmod == ""`): with `--chmod` the flag
    /// is silently ignored and the step is a plain COPY on top of the parent.
    public static func applies(to op: CopyOp) -> Bool {
        op.link && (op.chmod ?? "").isEmpty
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

    /// The cache key of a linked copy's layer: the instruction, what it copies (the sources'
    /// content digest — for `--from` a stage or image too, see `SelectionDigest` — and, for a
    /// local context, its name) and where (the absolute destination, so a
    /// relative one written under another WORKDIR that resolves alike still matches) — and,
    /// on purpose, no parent key.
    public static func layerKey(_ op: CopyOp, workdir: String, sourceIdentity: String, sourceDigest: Digest) -> Digest {
        let spec = CopySpec(sources: op.sources, destination: op.dest, workdir: workdir)
        let (dest, isDirectory) = spec.resolvedDestination
        var parts = [op.isAdd ? "ADD" : "COPY", dest, isDirectory ? "dir" : "file", "chown=" + (op.chown ?? ""),
                     sourceIdentity, sourceDigest.description]
        parts += op.sources.map { "src=" + $0 }
        parts += op.inline.map { "heredoc=" + $0.name + "=" + $0.data }
        parts += op.excludes.map { "exclude=" + $0 }
        parts += optionParts(op)
        return StepKey.chain(Digest.sha256("slipway-link-v1"), parts)
    }

    /// The key the stage continues with after a linked step: its parent's key and the layer's.
    public static func stageKey(parent: Digest, layerKey: Digest) -> Digest {
        StepKey.chain(parent, ["LINK", layerKey.description])
    }

    /// Flags that change what a COPY/ADD writes, beyond sources, destination and owner. Only
    /// set flags appear, so a plain COPY's key is what it was before these were keyed.
    static func optionParts(_ op: CopyOp) -> [String] {
        var parts: [String] = []
        if op.parents { parts.append("--parents") }
        if let u = op.unpack { parts.append("--unpack=\(u)") }
        if let c = op.checksum, !c.isEmpty { parts.append("--checksum=" + c) }
        return parts
    }
}
