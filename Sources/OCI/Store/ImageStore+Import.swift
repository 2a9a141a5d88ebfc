import Foundation
#if canImport(Glibc)
import Glibc
#endif
import System

extension ImageStore {
    /// `slipway import`: makes a one-layer image from a root filesystem tarball (plain, gzip or
    /// zstd; `-` reads standard input). The tar is checked as it streams, compressed into a
    /// layer, and recorded with a minimal config; on any error nothing is recorded.
    @discardableResult
    public func importRootfs(from path: String, tags: [ImageReference], compression: LayerCompression = .gzip,
                             platform: Platform = .host, created: Date = Date(), message: String? = nil) throws -> StoredImage {
        let file: FileSource
        if path == "-" {
            file = FileSource(descriptor: 0, path: "<stdin>", ownsDescriptor: false)
        } else {
            guard FileSystem.exists(path) else {
                throw StoreError.io(path: path, operation: "open", errno: ENOENT)
            }
            file = try FileSource(path: path)
        }
        let tmp = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(tmp) }
        let blob: LayerBlob
        do {
            let writer = LayerWriter(options: LayerWriter.Options(compression: compression))
            blob = try writer.write(tarStream: try AutoDecompressor(from: file), into: tmp, check: checkExtractable)
        } catch let ArchiveError.io(operation, failed, e) where failed != file.path {
            // A failure writing the store (a full disk) is not the tarball's fault: say which.
            throw StoreError.io(path: failed, operation: "importing \(path): \(operation)", errno: e)
        } catch {
            throw StoreError.invalid("\(path): not a valid root filesystem tarball: \(error)")
        }
        let layer = try adoptLayer(blob)
        let when = Timestamp.format(created)
        let source = path == "-" ? "-" : (path as NSString).lastPathComponent
        let config = ImageConfig(platform: platform, created: when, config: ContainerConfig(), diffIDs: [layer.diffID],
                                 history: [History(created: when, comment: message ?? "Imported from \(source)")])
        return try putImage(config: config, layers: [layer], tags: tags)
    }
}
