import Build
import Foundation
import OCI

/// The files a build leaves for the scripts around it: `--iidfile` and `--metadata-file`.
enum BuildOutputs {
    /// Removes a stale result file when the build starts, so that a failed build leaves none
    /// (buildx does the same). Only a regular file is removed: a device, FIFO or symlink the
    /// user pointed at is left for the output rule to write through.
    static func removeStale(_ path: String) {
        guard path != "-" else { return }
        var st = stat()
        if lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG { unlink(path) }
    }

    /// `--metadata-file`: buildx's keys for an image result, plus Slipway's per-step table
    /// (`slipway.steps`: each step's status, why it missed the cache, and its time).
    static func metadata(written: WrittenImage?, manifestMediaType: String?, manifestSize: Int64?, tags: [String],
                         steps: [ProgressReporter.StepSummary], cacheExports: [CacheExportCost] = [],
                         buildID: String) throws -> [UInt8] {
        var object: [String: Any] = ["buildx.build.ref": "slipway/local/" + buildID]
        if let written {
            object["containerimage.digest"] = written.manifestDigest.description
            object["containerimage.config.digest"] = written.id.description
            var descriptor: [String: Any] = ["digest": written.manifestDigest.description]
            if let manifestMediaType { descriptor["mediaType"] = manifestMediaType }
            if let manifestSize { descriptor["size"] = manifestSize }
            object["containerimage.descriptor"] = descriptor
        }
        if !tags.isEmpty { object["image.name"] = tags.joined(separator: ",") }
        object["slipway.steps"] = steps.map { s -> [String: Any] in
            var row: [String: Any] = ["step": s.step, "name": s.name, "status": s.status.rawValue]
            if let reason = s.reason { row["reason"] = reason }
            if let seconds = s.seconds { row["seconds"] = (seconds * 1000).rounded() / 1000 }
            if let bytes = s.layerBytes { row["layerBytes"] = bytes }
            if let bytes = s.uncompressedBytes { row["uncompressedBytes"] = bytes }
            if let cpu = s.cpuSeconds { row["cpuSeconds"] = (cpu * 1000).rounded() / 1000 }
            if let source = s.cacheSource { row["cache"] = source }
            if let from = s.importedFrom { row["importedFrom"] = from }
            return row
        }
        if !cacheExports.isEmpty { object["slipway.cacheExports"] = cacheExports.map(\.jsonObject) }
        var data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        data.append(0x0A)
        return Array(data)
    }

    /// Keeps the build in the store's history (`slipway history --builds`). A failure to record
    /// never fails the build: the image is what matters.
    static func record(in store: ImageStore, id: String, started: Date, succeeded: Bool, tags: [String], target: String?,
                       dockerfile: String, image: Digest?, steps: [ProgressReporter.StepSummary]) {
        let record = BuildRecord(
            id: id, started: started, seconds: Date().timeIntervalSince(started), succeeded: succeeded,
            tags: tags.compactMap { (try? ImageReference(parsing: $0))?.description }, target: target,
            dockerfile: dockerfile, image: image?.description,
            steps: steps.map { .init(step: $0.step, name: $0.name, status: $0.status.rawValue, reason: $0.reason, seconds: $0.seconds,
                                       layerBytes: $0.layerBytes, uncompressedBytes: $0.uncompressedBytes, cpuSeconds: $0.cpuSeconds,
                                       cache: $0.cacheSource, importedFrom: $0.importedFrom) })
        try? store.buildCache.putBuildRecord(record)
    }
}
