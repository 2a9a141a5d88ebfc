import Foundation
import OCI
import System

/// Writes a built image somewhere other than (or besides) the store: `--output`.
public struct BuildExporter: Sendable {
    public let store: ImageStore
    public let engineStore: StoreEngineStore
    public let snapshotter: any Snapshotter

    public init(store: ImageStore, engineStore: StoreEngineStore, snapshotter: any Snapshotter) {
        self.store = store
        self.engineStore = engineStore
        self.snapshotter = snapshotter
    }

    /// `type=local`: the final root filesystem as a directory tree.
    /// `type=tar`: the same tree as an uncompressed tar (`dest=-` writes to stdout).
    public func exportRootfs(layers: [LayerRef], to dest: String, asTar: Bool) async throws {
        let lowers = try await engineStore.lowerDirectories(layers)
        let view = try await snapshotter.readOnly(lowers: lowers)
        let (root, tmpDirectory) = (view.root, store.tmpDirectory)
        do {
            // Walking, tarring and writing the whole root filesystem block: off the pool.
            try await runOffPool { try Self.writeRootfs(root, to: dest, asTar: asTar, tmpDirectory: tmpDirectory) }
        } catch {
            try? await view.unmount()
            await view.discard()
            throw error
        }
        try await view.unmount()
        await view.discard()
    }

    static func writeRootfs(_ root: String, to dest: String, asTar: Bool, tmpDirectory: String) throws {
        if asTar {
            try OutputFile.write(dest, what: "the root filesystem tar") { sink in
                try LayerWriter(options: .init(source: .rootfs)).writeTar(directory: root, to: sink)
            }
        } else {
            try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
            // Through the layer writer and applier: same metadata rules as layers (owners, xattrs, links).
            let tmp = tmpDirectory + "/export-" + UUID().uuidString + ".tar"
            defer { unlink(tmp) }
            try LayerWriter(options: .init(source: .rootfs)).writeTar(directory: root, to: try FileSink(path: tmp))
            _ = try LayerApplier(mode: .flatten).apply(blob: tmp, to: dest)
        }
    }

    /// `type=oci` / `type=docker`: the image as `slipway save` writes it (`ImageArchive`
    /// owns the archive formats): an OCI layout tar, or a docker-archive that is also one.
    /// `dest` follows the output rule (`OutputFile`), and every blob's digest is checked on the
    /// way out.
    public func exportArchive(manifestDigest: Digest, tags: [String], to dest: String, docker: Bool) async throws {
        guard let image = try store.image(manifestDigest: manifestDigest) else { throw StoreError.imageNotFound(manifestDigest.description) }
        let names = try tags.map { try ImageReference(parsing: $0) }
        try await ImageArchive.save([SaveRequest(image: image, names: names)], from: store, format: docker ? .docker : .oci, to: dest)
    }
}
