import Foundation
@testable import OCI

/// A fresh store in a temp directory, removed when the value is dropped.
final class TempStore {
    let dir: String
    let store: ImageStore

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-store-\(UUID().uuidString)").path
        store = try ImageStore(root: dir)
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    /// Stores an image of uncompressed "layers" (arbitrary bytes: the store does not parse them).
    @discardableResult
    func makeImage(layers contents: [String], tags: [String], format: ManifestFormat = .oci, cmd: String = "sh") throws -> StoredImage {
        var records: [LayerRecord] = []
        for c in contents {
            let d = try store.putBlob(Array(c.utf8))
            records.append(LayerRecord(digest: d, diffID: d, size: Int64(c.utf8.count), uncompressedSize: Int64(c.utf8.count),
                                       mediaType: MediaType.ociLayer))
        }
        let config = ImageConfig(platform: Platform(architecture: "amd64"), created: "2024-05-01T10:00:00Z",
                                 config: ContainerConfig(cmd: [cmd]), diffIDs: records.map(\.diffID),
                                 history: contents.map { History(created: "2024-05-01T10:00:00Z", createdBy: "RUN \($0)") })
        return try store.putImage(config: config, layers: records, format: format,
                                  tags: try tags.map { try ImageReference(parsing: $0) })
    }
}
