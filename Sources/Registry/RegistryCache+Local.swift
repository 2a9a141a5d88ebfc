import Foundation
import OCI
import System

/// `type=local`: the same cache manifest, config and layers as an OCI image layout directory
/// (`oci-layout`, `index.json`, `blobs/sha256/`), for caches kept on disk or in CI artifacts.
extension RegistryCache {
    /// Writes `records` and their layers to the OCI layout at `directory` (created if needed;
    /// blobs already there are kept, `index.json` is replaced atomically). Returns what it cost
    /// (`ExportReport`: each layer written or already present).
    @discardableResult
    public func exportLocal(_ records: [CacheRecord], from store: ImageStore, to directory: String) async throws -> ExportReport {
        let started = ContinuousClock.now
        let (configBytes, layers) = try Self.encodeConfig(records, store: store)
        var costs: [Digest: ExportReport.LayerCost] = [:]
        do {
            let layout = try OCILayoutDestination(directory: directory)
            _ = try layout.putBlob(Array(configBytes))
            for layer in layers {
                let start = ContinuousClock.now
                let present = try await layout.hasBlob(layer.descriptor)
                if !present {
                    try layout.putBlob(copying: store.content.blobPath(layer.digest), as: layer.descriptor,
                                       what: "cache layer \(layer.digest) in the local store")
                }
                costs[layer.digest] = .init(size: layer.size, state: present ? .present : .written, seconds: ExportReport.seconds(since: start))
            }
            let manifestBytes = try Self.manifest(configBytes: configBytes, layers: layers)
            let manifest = try layout.putBlob(manifestBytes)
            let entry = Descriptor(mediaType: MediaType.ociManifest, digest: manifest.digest, size: manifest.size)
            layout.setOnlyEntry(entry)
            try layout.finish()
            let indexBytes = try CanonicalJSON.encode(ImageIndex(format: .oci, manifests: [entry]))
            return ExportReport(records: records, layers: costs, manifestDigest: manifest.digest,
                                metadataBytes: Int64(configBytes.count + manifestBytes.count + indexBytes.count),
                                seconds: ExportReport.seconds(since: started))
        } catch let error as RegistryError {
            throw error
        } catch {
            throw RegistryError.io("cannot write the cache to \(directory): \(error)")
        }
    }

    /// Reads a cache written by `exportLocal`: every blob is verified against its digest while it
    /// is copied into the store. A directory without a cache is 0 records, not an error.
    @discardableResult
    public func importLocal(from directory: String, into store: ImageStore) async throws -> Int {
        let indexPath = directory + "/index.json"
        guard FileManager.default.fileExists(atPath: indexPath) else {
            transfer.progress?("\(directory): no cache yet")
            return 0
        }
        // Through the one layout reader: every manifest and config is checked against its digest.
        let layout: OCILayoutSource
        let manifest: ImageManifest
        do {
            layout = try OCILayoutSource(directory: directory)
            guard let entry = layout.entries.first else { return 0 }
            manifest = try ImageManifest.decode(try layout.resolve(entry.digest.description).bytes, source: "cache manifest in \(directory)")
        } catch let error as StoreError {
            throw RegistryError.protocolViolation("\(directory): \(error)")
        }
        if Self.staleConfigMediaTypes.contains(manifest.config.mediaType) { return 0 }
        guard manifest.config.mediaType == Self.configMediaType else {
            throw RegistryError.protocolViolation("\(directory) does not hold a Slipway build cache")
        }
        func read(_ d: Descriptor, what: String) async throws -> [UInt8] {
            do { return try await layout.readBlob(d) } catch StoreError.digestMismatch(let expected, let actual, _) {
                throw RegistryError.digestMismatch(expected: expected, actual: actual, what: "\(what) in \(directory)")
            }
        }
        func blob(_ d: Digest) -> String { layout.blobPath(d) }
        let config = try Self.decodeConfig(Data(try await read(manifest.config, what: "cache config")), source: directory)
        for layer in config.layers {
            if !store.content.hasBlob(layer.digest) {
                try store.content.putBlob(copying: blob(layer.digest), expected: layer.digest, expectedSize: layer.size)
            }
            try store.recordLayer(layer)
        }
        for record in config.records {
            try store.buildCache.putCacheRecord(CacheRecord(key: record.key, layer: record.layer, result: record.result,
                                                            origin: directory))
        }
        return config.records.count
    }
}
