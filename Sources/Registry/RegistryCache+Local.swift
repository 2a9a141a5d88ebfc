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
        let blobs = directory + "/blobs/sha256"
        do {
            try FileManager.default.createDirectory(atPath: blobs, withIntermediateDirectories: true)
            try Self.writeAtomically(Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), to: directory + "/oci-layout")
            try Self.writeAtomically(configBytes, to: blobs + "/" + Digest.sha256(configBytes).encoded)
            for layer in layers {
                let start = ContinuousClock.now
                if FileManager.default.fileExists(atPath: blobs + "/" + layer.digest.encoded) {
                    costs[layer.digest] = .init(size: layer.size, state: .present, seconds: ExportReport.seconds(since: start))
                    continue
                }
                let tmp = blobs + "/.tmp-" + layer.digest.encoded
                try? FileManager.default.removeItem(atPath: tmp)
                try FileManager.default.copyItem(atPath: store.content.blobPath(layer.digest), toPath: tmp)
                guard rename(tmp, blobs + "/" + layer.digest.encoded) == 0 else {
                    throw RegistryError.system(.last("rename to \(blobs)/\(layer.digest.encoded)", path: tmp))
                }
                costs[layer.digest] = .init(size: layer.size, state: .written, seconds: ExportReport.seconds(since: start))
            }
            let manifestBytes = Data(try Self.manifest(configBytes: configBytes, layers: layers))
            let manifestDigest = Digest.sha256(manifestBytes)
            try Self.writeAtomically(manifestBytes, to: blobs + "/" + manifestDigest.encoded)
            let index = ImageIndex(format: .oci, manifests: [
                Descriptor(mediaType: MediaType.ociManifest, digest: manifestDigest, size: Int64(manifestBytes.count)),
            ])
            let indexBytes = Data(try CanonicalJSON.encode(index))
            try Self.writeAtomically(indexBytes, to: directory + "/index.json")
            return ExportReport(records: records, layers: costs, manifestDigest: manifestDigest,
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
        func blob(_ d: Digest) -> String { directory + "/blobs/sha256/" + d.encoded }
        func read(_ d: Digest, what: String) throws -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: blob(d)) else {
                throw RegistryError.io("\(what) \(d) is missing from \(directory)")
            }
            guard Digest.sha256(data) == d else {
                throw RegistryError.digestMismatch(expected: d, actual: Digest.sha256(data), what: "\(what) in \(directory)")
            }
            return Array(data)
        }
        let index = try ImageIndex.decode(Array(try Data(contentsOf: URL(fileURLWithPath: indexPath))), source: indexPath)
        guard let entry = index.manifests.first else { return 0 }
        let manifest = try ImageManifest.decode(try read(entry.digest, what: "cache manifest"), source: "cache manifest in \(directory)")
        if Self.staleConfigMediaTypes.contains(manifest.config.mediaType) { return 0 }
        guard manifest.config.mediaType == Self.configMediaType else {
            throw RegistryError.protocolViolation("\(directory) does not hold a Slipway build cache")
        }
        let config = try Self.decodeConfig(Data(try read(manifest.config.digest, what: "cache config")), source: directory)
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

    private static func writeAtomically(_ data: Data, to path: String) throws {
        let tmp = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: data) else {
            throw RegistryError.io("cannot write \(tmp)")
        }
        guard rename(tmp, path) == 0 else {
            unlink(tmp)
            throw RegistryError.system(.last("rename to \(path)", path: tmp))
        }
    }
}
