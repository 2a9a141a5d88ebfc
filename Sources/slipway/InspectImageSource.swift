import Foundation
import Inspect
import OCI
import Registry

/// Resolves an IMAGE argument of `analyze`/`compare`. `docker://REF` and `registry://REF` pull
/// the image into a throw-away store first (the user's store is left alone); everything else
/// goes to `ImageLoader` (store name or ID, OCI layout directory, archive file).
func loadForInspection(_ spec: String, store: StoreOptions, registry: RegistryOptions) async throws -> ImageInput {
    for prefix in ["docker://", "registry://"] where spec.hasPrefix(prefix) {
        let reference = try ImageReference(parsing: String(spec.dropFirst(prefix.count)))
        let temp = NSTemporaryDirectory() + "slipway-pull-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let pulled = try ImageStore(root: temp)
        let result = try await ImageTransfer(access: registry.access).pull(reference, into: pulled)
        var input = try await ImageLoader.load(result.image.manifestDigest.description, storeRoot: temp)
        input.name = reference.description
        return input
    }
    return try await ImageLoader.load(spec, storeRoot: store.rootPath)
}
