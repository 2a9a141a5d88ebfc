import OCI

extension StageRun.Source {
    /// What a cache key names for this source next to its content digest. Local contexts keep
    /// their name; a stage or image is not named at all, because BuildKit keys such a copy by
    /// the checksum of what it selects (`SelectionDigest`): another stage or image with the same
    /// files at those paths is the same input.
    var keyIdentity: String { layers == nil ? identity : "layers" }
}

extension StageRun {
    /// The content digest of what `op` selects in `source`: for the build context or a named
    /// local context, the copier's digest (file digests memoised per context); for a stage or
    /// image, the digest remembered in the store for these layers and this selection, else the
    /// selection hashed on a read-only mount of the source (the same code as for the context)
    /// and remembered. Errors (a missing source path) carry the Dockerfile line.
    func contentDigest(_ copy: CopyStep, source: Source) async throws -> Digest {
        guard let layers = source.layers else {
            return try await engine.copier.sourceDigest(copy, from: .context(source.directory ?? request.contextDirectory))
        }
        let key = SelectionDigest.memoKey(layers: layers.map(\.diffID), copy: copy)
        if let known = try await engine.store.selectionDigest(key) { return known }
        let mounted = try await mountSource(source)
        let digest: Digest
        do {
            digest = try await engine.copier.sourceDigest(copy, from: mounted.root)
        } catch {
            await mounted.release()
            throw error
        }
        await mounted.release()
        try await engine.store.recordSelectionDigest(key, digest)
        return digest
    }
}
