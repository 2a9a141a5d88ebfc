import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One image to `save`, with the names to give it in the archive (none: saved by ID).
public struct SaveRequest: Sendable {
    public var image: StoredImage
    public var names: [ImageReference]

    public init(image: StoredImage, names: [ImageReference]) {
        self.image = image
        self.names = names
    }
}

extension ImageStore {
    /// `slipway save`: writes images as one tar archive to `path` by the output rule
    /// (`OutputFile`: `-` is standard output, devices and symlinks are written through, a
    /// regular file is replaced atomically).
    ///
    /// `.oci`: an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) holding the
    /// stored manifests, configs and layers byte for byte, names in the index annotations
    /// (`io.containerd.image.name`, `org.opencontainers.image.ref.name`).
    /// `.docker`: a docker-archive in Docker 25's layout — `manifest.json` with `RepoTags`, and
    /// uncompressed layer tars (named by diff ID) — plus `index.json` over a Docker v2 schema 2
    /// manifest of those layers, so it is also a valid OCI layout.
    ///
    /// Every blob's digest is checked while it streams out: a corrupt store fails the save
    /// (`StoreError.corruptBlob`, naming the image and the layer), and a file output is left as
    /// it was.
    public func save(_ requests: [SaveRequest], format: ManifestFormat, to path: String) throws {
        guard !requests.isEmpty else { throw StoreError.invalid("nothing to save") }
        try OutputFile.write(path, what: "the archive") { sink in
            let tar = TarWriter(sink: sink)
            switch format {
            case .oci: try writeOCI(requests, tar)
            case .docker: try writeDocker(requests, tar)
            }
            try tar.finish()
        }
    }

    /// How an image is named in errors: its first tag, else its ID.
    public static func displayName(_ image: StoredImage) -> String {
        image.tags.first?.familiar ?? image.id.description
    }

    /// What a blob of `image` is, for errors: "layer 2 of app:1", "the config of app:1".
    public static func blobRole(_ d: Digest, in image: StoredImage) -> String {
        let name = displayName(image)
        if let i = image.layers.firstIndex(of: d) { return "layer \(i + 1) of \(image.layers.count) of image \(name)" }
        if d == image.configDigest { return "the config of image \(name)" }
        if d == image.manifestDigest { return "the manifest of image \(name)" }
        return "a blob of image \(name)"
    }

    private func addFile(_ tar: TarWriter, _ name: String, _ bytes: [UInt8]) throws {
        try tar.add(TarEntry(path: name, kind: .regular, mode: 0o644, size: Int64(bytes.count)))
        try bytes.withUnsafeBytes { try tar.writeData($0) }
    }

    private func addDirectories(_ tar: TarWriter) throws {
        try tar.add(TarEntry(path: "blobs", kind: .directory, mode: 0o755))
        try tar.add(TarEntry(path: "blobs/sha256", kind: .directory, mode: 0o755))
    }

    /// Streams a stored blob into the archive, checking its size and digest on the way:
    /// `role` ("layer 2 of 3 of image app:1") names it when the store's copy is corrupt.
    private func addBlob(_ tar: TarWriter, _ digest: Digest, role: String) throws {
        guard let size = content.blobSize(digest) else { throw StoreError.blobMissing(digest) }
        let fd = try content.openBlob(digest)
        defer { close(fd) }
        try tar.add(TarEntry(path: "blobs/sha256/" + digest.encoded, kind: .regular, mode: 0o644, size: size))
        var hasher = SHA256Hasher()
        try tar.writeData(fromDescriptor: fd, path: content.blobPath(digest)) { hasher.update($0) }
        let actual = hasher.finalize()
        guard actual == digest else {
            throw StoreError.corruptBlob(digest, what: role, cause: "its content hashes to \(actual)")
        }
    }

    private static let layoutFile = Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)

    private func indexEntry(_ d: Descriptor, names: [ImageReference], platform: Platform) -> [Descriptor] {
        var base = d
        base.platform = platform
        if names.isEmpty { return [base] }
        return names.map { n in
            var e = base
            e.annotations = [AnnotationKey.containerdImageName: n.description]
            if let t = n.tag { e.annotations?[AnnotationKey.refName] = t }
            return e
        }
    }

    private func writeOCI(_ requests: [SaveRequest], _ tar: TarWriter) throws {
        var entries: [Descriptor] = []
        var blobs: [(Digest, String)] = []
        var seen = Set<Digest>()
        for r in requests {
            let manifest = try manifest(of: r.image)
            let d = Descriptor(mediaType: r.image.manifestMediaType, digest: r.image.manifestDigest, size: r.image.manifestSize)
            entries += indexEntry(d, names: r.names, platform: r.image.platform)
            for b in [r.image.manifestDigest, manifest.config.digest] + manifest.layers.map(\.digest) where seen.insert(b).inserted {
                blobs.append((b, Self.blobRole(b, in: r.image)))
            }
        }
        try addFile(tar, "oci-layout", Self.layoutFile)
        try addFile(tar, "index.json", try CanonicalJSON.encode(ImageIndex(format: .oci, manifests: entries)))
        try addDirectories(tar)
        for (b, role) in blobs { try addBlob(tar, b, role: role) }
    }

    private struct DockerManifestEntry: Encodable {
        var Config: String
        var RepoTags: [String]?
        var Layers: [String]
    }

    private func writeDocker(_ requests: [SaveRequest], _ tar: TarWriter) throws {
        var items: [DockerManifestEntry] = []
        var entries: [Descriptor] = []
        var manifests: [(Digest, [UInt8])] = []
        var configs: [(Digest, String)] = []
        var layers: [(LayerRecord, String)] = []
        var seen = Set<Digest>()
        for r in requests {
            let records = try layerRecords(of: r.image)
            var sized: [LayerRecord] = []
            for var l in records {
                if l.uncompressedSize == nil { l.uncompressedSize = try measureLayer(l.digest, mediaType: l.mediaType).size }
                sized.append(l)
                if seen.insert(l.diffID).inserted { layers.append((l, Self.blobRole(l.digest, in: r.image))) }
            }
            let configSize = content.blobSize(r.image.configDigest) ?? 0
            let manifest = ImageManifest(
                format: .docker,
                config: Descriptor(mediaType: MediaType.dockerConfig, digest: r.image.configDigest, size: configSize),
                layers: sized.map { Descriptor(mediaType: MediaType.dockerLayer, digest: $0.diffID, size: $0.uncompressedSize ?? 0) })
            let (bytes, d) = try CanonicalJSON.blob(manifest, mediaType: MediaType.dockerManifest)
            entries += indexEntry(d, names: r.names, platform: r.image.platform)
            if seen.insert(d.digest).inserted { manifests.append((d.digest, bytes)) }
            if seen.insert(r.image.configDigest).inserted { configs.append((r.image.configDigest, Self.blobRole(r.image.configDigest, in: r.image))) }
            items.append(DockerManifestEntry(
                Config: "blobs/sha256/" + r.image.configDigest.encoded,
                RepoTags: r.names.isEmpty ? nil : r.names.map(\.familiar),
                Layers: sized.map { "blobs/sha256/" + $0.diffID.encoded }))
        }
        try addFile(tar, "oci-layout", Self.layoutFile)
        try addFile(tar, "index.json", try CanonicalJSON.encode(ImageIndex(format: .oci, manifests: entries)))
        try addFile(tar, "manifest.json", try CanonicalJSON.encode(items))
        try addDirectories(tar)
        for (d, bytes) in manifests { try addFile(tar, "blobs/sha256/" + d.encoded, bytes) }
        for (c, role) in configs { try addBlob(tar, c, role: role) }
        for (l, role) in layers { try addUncompressedLayer(tar, l, role: role) }
    }

    /// Writes a layer decompressed, as `blobs/sha256/<diffID>`, checking the diff ID on the way.
    private func addUncompressedLayer(_ tar: TarWriter, _ l: LayerRecord, role: String) throws {
        guard let compression = MediaType.layerCompression(l.mediaType), let size = l.uncompressedSize else {
            throw ModelError.unknownMediaType(what: "layer \(l.digest)", mediaType: l.mediaType)
        }
        // Both digests are checked: the blob's (what was read) and the diff ID (what was written).
        let file = HashingSource(FileSource(descriptor: try content.openBlob(l.digest), path: content.blobPath(l.digest), ownsDescriptor: true))
        let source = HashingSource(try compression.decompressor(from: file))
        try tar.add(TarEntry(path: "blobs/sha256/" + l.diffID.encoded, kind: .regular, mode: 0o644, size: size))
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let n: Int
            do { n = try source.read(into: chunk) } catch let e as ArchiveError {
                throw StoreError.corruptBlob(l.digest, what: role, cause: e.description)
            }
            if n == 0 { break }
            guard source.count <= size else { break }
            try tar.writeData(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
        }
        guard source.count == size else {
            throw StoreError.corruptBlob(l.digest, what: role, cause: "it unpacks to \(source.count) bytes, not \(size)")
        }
        // The decompressor may stop at its end marker: hash whatever follows, too.
        while (try? file.read(into: chunk)) ?? 0 > 0 {}
        let blobDigest = file.finalize()
        guard blobDigest == l.digest else {
            throw StoreError.corruptBlob(l.digest, what: role, cause: "its content hashes to \(blobDigest)")
        }
        let d = source.finalize()
        guard d == l.diffID else {
            throw StoreError.corruptBlob(l.digest, what: role, cause: "it unpacks to content with digest \(d), not its diff ID \(l.diffID)")
        }
    }
}
