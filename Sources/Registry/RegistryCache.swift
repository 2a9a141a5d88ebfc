import Foundation
import OCI

/// Build cache in a registry (`--cache-to/--cache-from type=registry,ref=R`): cache records and
/// the layers they produced, published as one OCI manifest whose config lists the records.
/// Machines sharing a registry share build steps: import the cache into an empty store and
/// every recorded step is a hit.
///
/// Format: manifest `application/vnd.oci.image.manifest.v1+json` with config media type
/// `application/vnd.slipway.cache.config.v2+json` (`CacheConfig`) and one layer per distinct
/// cached layer blob, in the order the config lists them. v2 carries records under typed
/// `CacheKey` digests (format 2); a v1 cache (newline-joined keys) is skipped as stale.
public struct RegistryCache: Sendable {
    public static let configMediaType = "application/vnd.slipway.cache.config.v2+json"
    /// Caches written before typed keys: their keys can never match, so they import nothing.
    static let staleConfigMediaTypes: Set<String> = ["application/vnd.slipway.cache.config.v1+json"]

    /// The cache config: records as the store keeps them, and the facts of their layers.
    public struct CacheConfig: Codable, Sendable, Equatable {
        public struct Record: Codable, Sendable, Equatable {
            /// The record's `CacheKey` digest.
            public var key: Digest
            public var layer: Digest?
            public var result: String
        }
        public var records: [Record]
        public var layers: [LayerRecord]
    }

    public var transfer: ImageTransfer

    public init(transfer: ImageTransfer = ImageTransfer()) {
        self.transfer = transfer
    }

    /// Pushes `records` (with their layer blobs from `store`) to `reference`. Returns what it
    /// cost, record by record (`ExportReport`). Records whose layer is not in the store are an error.
    @discardableResult
    public func export(_ records: [CacheRecord], from store: ImageStore, to reference: ImageReference) async throws -> ExportReport {
        let started = ContinuousClock.now
        let (configBytes, layers) = try Self.encodeConfig(records, store: store)
        let client = try transfer.access.client(for: reference.domain)
        let repo = reference.path
        try await client.pushBlob(repository: repo, data: configBytes)
        var costs: [Digest: ExportReport.LayerCost] = [:]
        try await withThrowingTaskGroup(of: (Digest, ExportReport.LayerCost).self) { group in
            var next = 0
            func add() {
                guard next < layers.count else { return }
                let layer = layers[next]
                next += 1
                group.addTask {
                    let start = ContinuousClock.now
                    let pushed = try await client.pushBlob(repository: repo, digest: layer.digest, size: layer.size,
                                                           from: URL(fileURLWithPath: store.content.blobPath(layer.digest)))
                    let state: ExportReport.State = pushed == .alreadyPresent ? .present : pushed == .mounted ? .mounted : .uploaded
                    transfer.progress?("\(layer.digest.short): cache layer \(state == .present ? "already there" : "exported")")
                    return (layer.digest, .init(size: layer.size, state: state, seconds: ExportReport.seconds(since: start)))
                }
            }
            for _ in 0..<transfer.concurrency { add() }
            while let (digest, cost) = try await group.next() {
                costs[digest] = cost
                add()
            }
        }
        let manifestBytes = try Self.manifest(configBytes: configBytes, layers: layers)
        let digest = try await client.putManifest(repository: repo, reference: reference.tag ?? ImageReference.defaultTag,
                                                  data: Data(manifestBytes), mediaType: MediaType.ociManifest)
        return ExportReport(records: records, layers: costs, manifestDigest: digest,
                            metadataBytes: Int64(configBytes.count + manifestBytes.count), seconds: ExportReport.seconds(since: started))
    }

    /// Pulls the cache at `reference` into `store`: its layer blobs (those missing) and its
    /// records. Returns the number of records imported; a missing cache is not an error (0),
    /// as `--cache-from` of a first build must not fail.
    @discardableResult
    public func importCache(from reference: ImageReference, into store: ImageStore) async throws -> Int {
        let client = try transfer.access.client(for: reference.domain)
        let repo = reference.path
        let fetched: FetchedManifest
        do {
            fetched = try await client.fetchManifest(repository: repo, reference: reference.digest?.description ?? reference.tag ?? ImageReference.defaultTag)
        } catch RegistryError.notFound {
            transfer.progress?("\(reference.familiar): no cache yet")
            return 0
        }
        let manifest = try ImageManifest.decode(Array(fetched.data), source: "cache manifest \(reference)")
        if Self.staleConfigMediaTypes.contains(manifest.config.mediaType) {
            transfer.progress?("\(reference.familiar): cache written by an older Slipway (stale keys), skipped")
            return 0
        }
        guard manifest.config.mediaType == Self.configMediaType else {
            throw RegistryError.protocolViolation("\(reference) is not a Slipway build cache (config type \(manifest.config.mediaType))")
        }
        let tmp = try store.makeTemporaryDirectory()
        defer { store.removeTemporaryDirectory(tmp) }
        let configFile = URL(fileURLWithPath: tmp + "/cache-config.json")
        try await client.fetchBlob(repository: repo, digest: manifest.config.digest, size: manifest.config.size, to: configFile)
        let config = try Self.decodeConfig(try Data(contentsOf: configFile), source: reference.description)
        let listed = Set(manifest.layers.map(\.digest))
        for layer in config.layers where !listed.contains(layer.digest) {
            throw RegistryError.protocolViolation("cache config names layer \(layer.digest), which the manifest does not carry")
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func add() {
                guard next < config.layers.count else { return }
                let layer = config.layers[next]
                next += 1
                group.addTask {
                    try await client.fetchBlob(repository: repo, digest: layer.digest, size: layer.size, into: store)
                    try store.recordLayer(layer)
                    transfer.progress?("\(layer.digest.short): cache layer imported")
                }
            }
            for _ in 0..<transfer.concurrency { add() }
            while try await group.next() != nil { add() }
        }
        for record in config.records {
            try store.buildCache.putCacheRecord(CacheRecord(key: record.key, layer: record.layer, result: record.result,
                                                            origin: reference.familiar))
        }
        return config.records.count
    }

    // MARK: - Format

    /// The config bytes for `records` and the facts of their layers (from `store`).
    static func encodeConfig(_ records: [CacheRecord], store: ImageStore) throws -> (Data, [LayerRecord]) {
        var layers: [LayerRecord] = []
        var seen = Set<Digest>()
        for record in records {
            guard let digest = record.layer, seen.insert(digest).inserted else { continue }
            guard store.content.hasBlob(digest), let facts = try store.layerRecord(digest: digest) else {
                throw RegistryError.io("cache record \(record.key) names layer \(digest), which is not in the local store")
            }
            layers.append(facts)
        }
        let config = CacheConfig(records: records.map { .init(key: $0.key, layer: $0.layer, result: $0.result) }, layers: layers)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try encoder.encode(config), layers)
    }

    static func decodeConfig(_ data: Data, source: String) throws -> CacheConfig {
        do { return try JSONDecoder().decode(CacheConfig.self, from: data) } catch {
            throw RegistryError.protocolViolation("unreadable cache config in \(source): \(error)")
        }
    }

    static func manifest(configBytes: Data, layers: [LayerRecord]) throws -> [UInt8] {
        let manifest = ImageManifest(format: .oci,
                                     config: Descriptor(mediaType: configMediaType, digest: Digest.sha256(configBytes),
                                                        size: Int64(configBytes.count)),
                                     layers: layers.map(\.descriptor))
        return try CanonicalJSON.encode(manifest)
    }
}

extension RegistryCache {
    /// What one `--cache-to` export cost: for each record, its layer's bytes and whether they
    /// were uploaded (registry), written (local directory), mounted from another repository, or
    /// already present there, and how long that layer took; plus the cache's config and
    /// manifest. Records that share a layer share its cost (counted once in the totals).
    public struct ExportReport: Sendable {
        public enum State: String, Sendable {
            case uploaded, written, mounted, present
            /// A record without a layer (a config-only step, a selection digest): only its line in the config.
            case noLayer = "no-layer"
        }
        public struct LayerCost: Sendable {
            public var size: Int64
            public var state: State
            public var seconds: Double
        }
        public struct Record: Sendable {
            public var key: Digest
            public var layer: Digest?
            /// The layer's compressed size (0 without a layer).
            public var bytes: Int64
            public var state: State
            /// Time spent on its layer (0 without a layer).
            public var seconds: Double
            /// Bytes that went over the wire or to disk for it: `bytes` when uploaded or written, else 0.
            public var bytesSent: Int64 { state == .uploaded || state == .written ? bytes : 0 }
        }

        public var records: [Record]
        public var manifestDigest: Digest
        /// The cache config and manifest, written every time.
        public var metadataBytes: Int64
        /// The whole export, wall time.
        public var seconds: Double
        let layers: [Digest: LayerCost]

        init(records: [CacheRecord], layers: [Digest: LayerCost], manifestDigest: Digest, metadataBytes: Int64, seconds: Double) {
            self.records = records.map { r in
                guard let l = r.layer, let cost = layers[l] else { return Record(key: r.key, layer: r.layer, bytes: 0, state: .noLayer, seconds: 0) }
                return Record(key: r.key, layer: l, bytes: cost.size, state: cost.state, seconds: cost.seconds)
            }
            self.layers = layers
            self.manifestDigest = manifestDigest
            self.metadataBytes = metadataBytes
            self.seconds = seconds
        }

        /// Layer bytes uploaded or written (each layer once).
        public var bytesSent: Int64 { layers.values.filter { $0.state == .uploaded || $0.state == .written }.reduce(0) { $0 + $1.size } }
        /// Layer bytes the destination already had or mounted (each layer once).
        public var bytesPresent: Int64 { layers.values.filter { $0.state == .present || $0.state == .mounted }.reduce(0) { $0 + $1.size } }
        /// Distinct layers sent, and already there.
        public var layersSent: Int { layers.values.filter { $0.state == .uploaded || $0.state == .written }.count }
        public var layersPresent: Int { layers.count - layersSent }

        static func seconds(since start: ContinuousClock.Instant) -> Double {
            let d = ContinuousClock.now - start
            return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
    }
}
