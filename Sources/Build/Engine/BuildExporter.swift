import Foundation
import OCI

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
            let sink: FileSink = dest == "-" ? FileSink(descriptor: 1, path: "<stdout>", ownsDescriptor: false)
                                             : try FileSink(path: dest)
            try LayerWriter(options: .init(source: .rootfs)).writeTar(directory: root, to: sink)
        } else {
            try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
            // Through the layer writer and applier: same metadata rules as layers (owners, xattrs, links).
            let tmp = tmpDirectory + "/export-" + UUID().uuidString + ".tar"
            defer { unlink(tmp) }
            try LayerWriter(options: .init(source: .rootfs)).writeTar(directory: root, to: try FileSink(path: tmp))
            _ = try LayerApplier(mode: .flatten).apply(blob: tmp, to: dest)
        }
    }

    /// `type=oci` / `type=docker`: an image layout tar (docker's adds manifest.json, which
    /// `docker load` reads).
    public func exportArchive(manifestDigest: Digest, tags: [String], to dest: String, docker: Bool) async throws {
        // Copies every blob of the image: off the cooperative pool.
        try await runOffPool { try exportArchiveBlocking(manifestDigest: manifestDigest, tags: tags, to: dest, docker: docker) }
    }

    func exportArchiveBlocking(manifestDigest: Digest, tags: [String], to dest: String, docker: Bool) throws {
        guard let image = try store.image(manifestDigest: manifestDigest) else { throw StoreError.imageNotFound(manifestDigest.description) }
        let manifest = try store.manifest(of: image)
        let sink: FileSink = dest == "-" ? FileSink(descriptor: 1, path: "<stdout>", ownsDescriptor: false) : try FileSink(path: dest)
        let tar = TarWriter(sink: sink)
        let now = Int64(Date().timeIntervalSince1970)
        func addBytes(_ path: String, _ bytes: [UInt8]) throws {
            try tar.add(TarEntry(path: path, kind: .regular, mode: 0o644, size: Int64(bytes.count), mtime: now))
            try bytes.withUnsafeBytes { try tar.writeData($0) }
        }
        func addBlob(_ d: Digest) throws {
            let fd = try store.openBlob(d)
            defer { close(fd) }
            let size = store.blobSize(d) ?? 0
            try tar.add(TarEntry(path: "blobs/sha256/" + d.encoded, kind: .regular, mode: 0o644, size: size, mtime: now))
            try tar.writeData(fromDescriptor: fd, path: store.blobPath(d))
        }
        try tar.add(TarEntry(path: "blobs", kind: .directory, mode: 0o755, mtime: now))
        try tar.add(TarEntry(path: "blobs/sha256", kind: .directory, mode: 0o755, mtime: now))
        var seen = Set<Digest>()
        for d in [manifest.config.digest] + manifest.layers.map(\.digest) + [manifestDigest] where seen.insert(d).inserted {
            try addBlob(d)
        }
        try addBytes("oci-layout", Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        var desc: [String: Any] = ["mediaType": image.manifestMediaType, "digest": manifestDigest.description,
                                   "size": image.manifestSize]
        if let first = tags.first { desc["annotations"] = ["org.opencontainers.image.ref.name": first, "io.containerd.image.name": first] }
        let index: [String: Any] = ["schemaVersion": 2, "mediaType": MediaType.ociIndex, "manifests": [desc]]
        try addBytes("index.json", Array(try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys, .withoutEscapingSlashes])))
        if docker {
            let entry: [String: Any] = ["Config": "blobs/sha256/" + manifest.config.digest.encoded,
                                        "RepoTags": tags,
                                        "Layers": manifest.layers.map { "blobs/sha256/" + $0.digest.encoded }]
            try addBytes("manifest.json", Array(try JSONSerialization.data(withJSONObject: [entry], options: [.sortedKeys, .withoutEscapingSlashes])))
        }
        try tar.finish()
    }
}
