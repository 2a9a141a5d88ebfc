import OCI

/// What BuildKit keys a `COPY --from` (and a bind mount `from=`) by: not the source's cache key
/// but a checksum of the paths it selects in the source (solver/llbsolver/ops/file.go adds a
/// content-hash selector per copy source). So a builder stage that re-runs and writes
/// byte-identical files at the copied paths — a comment edit that yields the same static
/// binary — leaves the copy, and everything after it, cached.
///
/// Hashing means mounting the source and reading the selected files, so the digest is memoised
/// in the store under `memoKey`: the source's layers (their diffIDs say exactly what files it
/// has, unlike a stage's cache key, which a `--no-cache` rebuild can map to other content) and
/// the selection. A no-change rebuild then costs one index read per copy and mounts nothing.
public enum SelectionDigest {
    /// The memo key of the content digest of `copy`'s selection in a source made of `layers`
    /// (bottom first, by diffID): the sources as written, `--exclude`, `--parents`, and heredoc
    /// bodies. Symlinks are always followed for a named source (dockerfile2llb's
    /// FollowSymlinks), so that is not a variable here.
    public static func memoKey(layers: [Digest], copy: CopyStep) -> CacheKey {
        .selection(layers: layers, sources: copy.spec.sources, excludes: copy.spec.excludes, parents: copy.spec.parents,
                   heredocs: copy.heredocs.map { ($0.name, $0.content) })
    }
}
