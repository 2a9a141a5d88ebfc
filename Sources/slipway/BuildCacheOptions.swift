import ArgumentParser
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
            return Spec(location: .local(dir), maxMode: mode == "max")
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
    /// layer is in the final image, plus layer-less records (min).
    func exportCaches(_ specs: [Spec], from store: ImageStore, since start: Date, finalLayers: Set<Digest>,
                      access: RegistryAccess, note: @escaping @Sendable (String) -> Void) async throws {
        guard !specs.isEmpty else { return }
        let touched = try store.buildCache.cacheRecords(usedSince: start)
        let cache = RegistryCache(transfer: ImageTransfer(access: access))
        for spec in specs {
            let records = spec.maxMode ? touched : touched.filter { $0.layer.map(finalLayers.contains) ?? true }
            let digest: Digest
            switch spec.location {
            case .registry(let ref): digest = try await cache.export(records, from: store, to: ref)
            case .local(let dir): digest = try await cache.exportLocal(records, from: store, to: dir)
            }
            note("cache to \(spec.name): \(records.count) records (\(spec.maxMode ? "max" : "min")), \(digest)")
        }
    }
}
