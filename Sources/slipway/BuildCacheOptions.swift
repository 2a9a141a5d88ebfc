import ArgumentParser
import Build
import Foundation
import OCI
import Registry

/// `--cache-to` / `--cache-from` of `slipway build` (BuildKit's syntax):
/// `type=registry,ref=REF[,mode=min|max]` or `type=local,dest=DIR[,mode=...]` / `type=local,src=DIR`;
/// `--cache-from REF` alone means `type=registry,ref=REF`.
struct BuildCacheOptions: ParsableArguments {
    @Option(name: .customLong("cache-to"), help: ArgumentHelp(
        "Export the build cache: type=registry,ref=REF or type=local,dest=DIR, [,mode=min|max] (min: the final image's layers; max: every step).",
        valueName: "spec"))
    var cacheTo: [String] = []

    @Option(name: .customLong("cache-from"), help: ArgumentHelp(
        "Import a build cache before building: type=registry,ref=REF (or just REF) or type=local,src=DIR. May be repeated.",
        valueName: "spec"))
    var cacheFrom: [String] = []

    struct Spec: Equatable {
        enum Location: Equatable {
            case registry(ImageReference)
            case local(String)
        }
        var location: Location
        var maxMode: Bool

        var name: String {
            switch location {
            case .registry(let r): return r.familiar
            case .local(let dir): return dir
            }
        }
    }

    /// Parses `key=value,...` the way buildx does.
    static func parse(_ text: String, export: Bool) throws -> Spec {
        var fields: [String: String] = [:]
        if !text.contains("=") {
            fields = ["type": "registry", "ref": text]
        } else {
            for part in text.split(separator: ",") {
                let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
                guard kv.count == 2, !kv[0].isEmpty else {
                    throw ValidationError("invalid cache spec '\(text)': expected key=value pairs such as type=registry,ref=REF")
                }
                fields[kv[0].lowercased()] = kv[1]
            }
        }
        let type = fields["type"] ?? "registry"
        let mode = fields["mode"] ?? "min"
        guard mode == "min" || mode == "max" else {
            throw ValidationError("cache mode '\(mode)' is invalid: use mode=min or mode=max")
        }
        if !export && fields["mode"] != nil {
            throw ValidationError("mode= applies to --cache-to only")
        }
        switch type {
        case "registry":
            guard let ref = fields["ref"], !ref.isEmpty else {
                throw ValidationError("cache spec '\(text)' needs ref=REGISTRY/REPO:TAG")
            }
            return Spec(location: .registry(try ImageReference(parsing: ref)), maxMode: mode == "max")
        case "local":
            let key = export ? "dest" : "src"
            guard let dir = fields[key], !dir.isEmpty else {
                throw ValidationError("cache spec '\(text)' needs \(key)=DIRECTORY")
            }
            // Absolute, so that the name a record's origin and an export are kept under does not
            // depend on the directory the build ran in.
            return Spec(location: .local(URL(fileURLWithPath: dir).standardizedFileURL.path), maxMode: mode == "max")
        default:
            throw ValidationError("cache type '\(type)' is not supported; use type=registry,ref=REF or type=local,\(export ? "dest" : "src")=DIR")
        }
    }

    func validated() throws -> (to: [Spec], from: [Spec]) {
        (try cacheTo.map { try Self.parse($0, export: true) }, try cacheFrom.map { try Self.parse($0, export: false) })
    }

    /// Imports every `--cache-from` cache into the store; a cache that does not exist yet is
    /// only a note (a first build has none).
    func importCaches(_ specs: [Spec], into store: ImageStore, access: RegistryAccess,
                      note: @escaping @Sendable (String) -> Void) async throws {
        let cache = RegistryCache(transfer: ImageTransfer(access: access))
        for spec in specs {
            let n: Int
            switch spec.location {
            case .registry(let ref): n = try await cache.importCache(from: ref, into: store)
            case .local(let dir): n = try await cache.importLocal(from: dir, into: store)
            }
            note("cache from \(spec.name): \(n) records")
        }
    }

    /// Exports what this build used or made since `start`: all of it (max) or only records whose
    /// layer is in the final image, plus layer-less records (min). Each exported record's cost
    /// goes to `exported` (json progress, the metadata file), each cache's summary to `note`
    /// (records, layers sent and already there, bytes, time), and the store remembers what went
    /// where (`BuildCacheIndex.recordCacheExport`, for `history --unused-exports`).
    func exportCaches(_ specs: [Spec], from store: ImageStore, since start: Date, finalLayers: Set<Digest>,
                      access: RegistryAccess, buildID: String, exported: @Sendable (CacheExportCost) async -> Void,
                      note: @Sendable (String) async -> Void) async throws {
        guard !specs.isEmpty else { return }
        let touched = try store.buildCache.cacheRecords(usedSince: start)
        let cache = RegistryCache(transfer: ImageTransfer(access: access))
        for spec in specs {
            let records = spec.maxMode ? touched : touched.filter { $0.layer.map(finalLayers.contains) ?? true }
            let report: RegistryCache.ExportReport
            switch spec.location {
            case .registry(let ref): report = try await cache.export(records, from: store, to: ref)
            case .local(let dir): report = try await cache.exportLocal(records, from: store, to: dir)
            }
            for r in report.records {
                await exported(CacheExportCost(destination: spec.name, key: r.key.description, layer: r.layer?.description,
                                               bytes: r.bytes, state: r.state.rawValue, seconds: r.seconds))
            }
            // Explanatory: a failure to remember the export never fails the build.
            try? store.buildCache.recordCacheExport(keys: records.map(\.key), destination: spec.name, buildID: buildID)
            await note(Self.summary(report, spec: spec))
        }
    }

    /// `cache to R: 5 records (max), 2 layers sent (3.1 MB), 1 already there (700 kB), 0.4 s, sha256:…`.
    static func summary(_ report: RegistryCache.ExportReport, spec: Spec) -> String {
        let verb = { if case .local = spec.location { return "written" } else { return "uploaded" } }()
        return "cache to \(spec.name): \(report.records.count) records (\(spec.maxMode ? "max" : "min")), "
            + "\(report.layersSent) layer\(report.layersSent == 1 ? "" : "s") \(verb) (\(ByteCount.format(report.bytesSent))), "
            + "\(report.layersPresent) already there (\(ByteCount.format(report.bytesPresent))), "
            + String(format: "%.1f s, ", report.seconds) + report.manifestDigest.description
    }
}
