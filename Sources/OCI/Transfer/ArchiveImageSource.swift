import Foundation
#if canImport(Glibc)
import Glibc
#endif
import System

/// An image archive being read — an OCI image layout tar, or a docker-archive in the old
/// (`<id>/layer.tar`) or new (`blobs/sha256/…`) layout, plain or gzip/zstd compressed — as an
/// `ImageSource`: `load` (and `analyze` of an archive) copy from it into the store. The one
/// reader of both archive formats.
///
/// A tar can only be read in order (and standard input only once), so `stage` reads it once
/// into the store's content: each blob verified against its name where the archive gives one
/// and leased, a docker-archive's layers compressed as `import` compresses them (the same tar
/// gives the same blob). The source then serves the archive's images from there: an OCI
/// layout's manifests as they are, a docker-archive's as OCI manifests over those layers.
/// `discardStaged()` drops what no recorded image came to need.
public final class ArchiveImageSource: ImageSource, @unchecked Sendable {
    /// One image of the archive: its manifest and the names the archive gives it.
    public struct Image: Sendable {
        public var manifest: SourceManifest
        public var names: [ImageReference]
    }

    public let path: String
    let store: ImageStore
    /// The archive's images, in its order (every platform of a multi-platform index).
    public private(set) var images: [Image] = []
    /// Blobs this source wrote into the store.
    private var staged = Set<Digest>()

    private init(path: String, store: ImageStore) {
        self.path = path
        self.store = store
    }

    public var description: String { "archive \(path == "-" ? "<stdin>" : path)" }

    /// Reads the archive at `path` (`-`: standard input) into `store`'s content. On an error
    /// what it staged is dropped again.
    public static func stage(_ path: String, into store: ImageStore) throws -> ArchiveImageSource {
        let source = ArchiveImageSource(path: path, store: store)
        do {
            try source.read()
            return source
        } catch {
            source.discardStaged()
            throw error
        }
    }

    /// Drops this process's leases on the staged blobs and removes those that no image, layer
    /// or cache record needs (what a failed or finished load leaves over).
    public func discardStaged() {
        try? store.discardUnreferenced(staged)
        staged = []
    }

    // MARK: ImageSource

    public func manifest(_ reference: String) async throws -> SourceManifest {
        if let image = images.first(where: { $0.manifest.digest.description == reference }) { return image.manifest }
        throw StoreError.invalid("\(description) has no image \(reference)")
    }

    public func fetchBlob(_ descriptor: Descriptor, into receiver: any BlobReceiver,
                          progress: (@Sendable (Int64) -> Void)?) async throws -> Int64 {
        let (content, what) = (store.content, "\(description): blob \(descriptor.digest)")
        return try await runOffPool {
            guard content.hasBlob(descriptor.digest) else { throw StoreError.invalid("\(what) is missing from the archive") }
            return try receiver.receive(file: content.blobPath(descriptor.digest), as: descriptor, what: what, progress: progress) { actual in
                StoreError.digestMismatch(expected: descriptor.digest, actual: actual, what: what)
            }
        }
    }

    public func localFile(of descriptor: Descriptor) -> String? {
        store.content.hasBlob(descriptor.digest) ? store.content.blobPath(descriptor.digest) : nil
    }

    public func role(of descriptor: Descriptor) -> String { "\(description): blob \(descriptor.digest)" }

    // MARK: reading the tar

    private static let metadataNames: Set<String> = ["index.json", "manifest.json", "oci-layout", "repositories"]

    private func read() throws {
        let file = try FileSource.input(path)
        let content = store.content
        let reader = TarReader(source: try AutoDecompressor(from: file))
        var files: [String: Digest] = [:]
        var metadata: [String: [UInt8]] = [:]
        var links: [String: String] = [:]
        do {
            while let entry = try reader.next() {
                let name = entry.path
                switch entry.kind {
                case .symlink, .hardlink:
                    // Old docker-archives share layers between image dirs with symlinks.
                    let target = entry.kind == .symlink && !entry.linkName.hasPrefix("/")
                        ? Self.join((name as NSString).deletingLastPathComponent, entry.linkName) : entry.linkName
                    links[name] = target
                    continue
                case .regular: break
                default: continue
                }
                if Self.metadataNames.contains(name) || name.hasSuffix("/json") || name.hasSuffix("/VERSION") {
                    metadata[name] = try reader.readData(limit: 16 << 20)
                    continue
                }
                var expected: Digest?
                if name.hasPrefix("blobs/") {
                    let parts = name.split(separator: "/")
                    guard parts.count == 3, let d = try? Digest(parsing: "\(parts[1]):\(parts[2])"), d.algorithm == "sha256" else {
                        throw StoreError.invalid("archive entry '\(name)' is not a sha256 blob (expected blobs/sha256/<64 hex digits>)")
                    }
                    expected = d
                }
                if let d = expected, content.hasBlob(d), content.blobSize(d) == entry.size, try content.lease(d) {
                    files[name] = d      // already stored and verified: skip the bytes
                    continue
                }
                let w = try content.blobWriter()
                try reader.forEachChunk { try w.write($0) }
                let (digest, _) = try w.commit(expected: expected, expectedSize: entry.size, what: "archive entry '\(name)'")
                staged.insert(digest)
                files[name] = digest
            }
        } catch let e as ArchiveError {
            throw StoreError.invalid("\(path): not a valid image archive: \(e)")
        }
        func blob(_ p: String) throws -> Digest {
            var p = Self.join("", p)
            var hops = 0
            while let t = links[p], hops < 16 { p = Self.join("", t); hops += 1 }
            guard let d = files[p] else { throw StoreError.invalid("\(path): the archive has no file '\(p)'") }
            return d
        }

        if let manifestJSON = metadata["manifest.json"] {
            images = try dockerArchiveImages(manifestJSON, blob: blob)
        } else if let indexJSON = metadata["index.json"] {
            images = try layoutImages(indexJSON)
        } else if metadata["repositories"] != nil {
            throw StoreError.invalid("\(path): a docker-archive without manifest.json (saved by Docker before 1.10) is not supported")
        } else {
            throw StoreError.invalid("\(path): not an image archive (it has neither index.json nor manifest.json)")
        }
    }

    /// Normalises `rel` against `dir` (`.` and `..` resolved, never above the root): archive
    /// entry names and link targets.
    static func join(_ dir: String, _ rel: String) -> String {
        var parts: [Substring] = []
        for c in (dir + "/" + rel).split(separator: "/") {
            if c == "." { continue }
            if c == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(c)
        }
        return parts.joined(separator: "/")
    }

    // MARK: docker-archive

    private struct DockerManifestItem: Decodable {
        var Config: String
        var RepoTags: [String]?
        var Layers: [String]
    }

    /// Each `manifest.json` item as an OCI manifest over the store's compressed copies of its
    /// layers (made here, checked against the config's diff_ids).
    private func dockerArchiveImages(_ json: [UInt8], blob: (String) throws -> Digest) throws -> [Image] {
        let items: [DockerManifestItem]
        do {
            items = try CanonicalJSON.decode([DockerManifestItem].self, from: json)
        } catch {
            throw ModelError.badJSON(what: "\(path): manifest.json", reason: CanonicalJSON.describe(error))
        }
        guard !items.isEmpty else { throw StoreError.invalid("\(path): manifest.json lists no images") }
        var result: [Image] = []
        for item in items {
            let configDigest = try blob(item.Config)
            // Old layouts name the config `<hex>.json`: that hex must be its digest.
            let base = (item.Config as NSString).lastPathComponent
            if base.hasSuffix(".json"), base.count == 69, configDigest.encoded != String(base.dropLast(5)) {
                throw StoreError.digestMismatch(expected: try Digest(parsing: "sha256:" + base.dropLast(5)), actual: configDigest,
                                                what: "\(path): config \(item.Config)")
            }
            let configBytes = try store.content.readBlob(configDigest)
            let config = try ImageConfig.decode(configBytes, source: "\(path): config \(item.Config)")
            guard config.rootfs.diffIDs.count == item.Layers.count else {
                throw StoreError.invalid("\(path): manifest.json lists \(item.Layers.count) layers but config \(item.Config) has \(config.rootfs.diffIDs.count) diff_ids")
            }
            var records: [LayerRecord] = []
            for (i, layerPath) in item.Layers.enumerated() {
                let want = config.rootfs.diffIDs[i]
                if let known = try store.layerRecord(diffID: want), known.uncompressedSize != nil, try store.content.lease(known.digest) {
                    records.append(known)
                    continue
                }
                records.append(try compressLayer(try blob(layerPath), path: layerPath, diffID: want))
            }
            let manifest = ImageManifest(format: .oci,
                                         config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configBytes.count)),
                                         layers: records.map(\.descriptor))
            let bytes = try CanonicalJSON.encode(manifest)
            let names = try (item.RepoTags ?? []).map { tag in
                do { return try ImageReference(parsing: tag) } catch {
                    throw StoreError.invalid("\(path): manifest.json has an invalid RepoTag: \(error)")
                }
            }
            result.append(Image(manifest: SourceManifest(bytes: bytes, mediaType: MediaType.ociManifest, digest: Digest.sha256(Data(bytes))),
                                names: names))
        }
        return result
    }

    /// A docker-archive layer (a tar, usually uncompressed) as the store keeps layers: gzip,
    /// as `import` writes them, so the same tar gives the same blob.
    private func compressLayer(_ raw: Digest, path layerPath: String, diffID want: Digest) throws -> LayerRecord {
        let tmp = try store.makeTemporaryDirectory()
        defer { store.removeTemporaryDirectory(tmp) }
        let layer: LayerBlob
        do {
            let src = try AutoDecompressor(from: FileSource(descriptor: try store.content.openBlob(raw), path: layerPath, ownsDescriptor: true))
            layer = try LayerWriter(options: LayerWriter.Options(compression: .gzip)).write(tarStream: src, into: tmp)
        } catch {
            throw StoreError.invalid("\(path): layer \(layerPath) is not a valid layer tar: \(error)")
        }
        guard layer.diffID == want else {
            throw StoreError.digestMismatch(expected: want, actual: layer.diffID, what: "\(path): layer \(layerPath) (diff_id from the config)")
        }
        let record = try store.adoptLayer(layer)
        staged.insert(record.digest)
        return record
    }

    // MARK: OCI image layout

    /// Every image manifest `index.json` lists, and those of the indexes it lists (attestation
    /// manifests, platform unknown/unknown, left out); an index's names go to the manifest of
    /// this machine's platform.
    private func layoutImages(_ json: [UInt8]) throws -> [Image] {
        let index = try ImageIndex.decode(json, source: "\(path): index.json")
        var result: [Image] = []
        for d in index.manifests {
            let names = try Self.names(from: d.annotations, source: path)
            if MediaType.isManifest(d.mediaType) {
                result.append(Image(manifest: try stagedManifest(d), names: names))
            } else if MediaType.isIndex(d.mediaType) {
                let nested = try ImageIndex.decode(try stagedManifest(d).bytes, source: "\(path): index \(d.digest)")
                let best = nested.bestManifest(for: .host) ?? nested.manifests.first { MediaType.isManifest($0.mediaType) }
                for child in nested.manifests where MediaType.isManifest(child.mediaType) {
                    if child.platform?.os == "unknown" { continue }
                    result.append(Image(manifest: try stagedManifest(child), names: child == best ? names : []))
                }
            }
        }
        guard !result.isEmpty else {
            throw StoreError.invalid("\(path): index.json lists no image manifests (media types: \(index.manifests.map(\.mediaType).joined(separator: ", ")))")
        }
        return result
    }

    /// A manifest or index the layout lists, read from the staged blobs and checked against
    /// its descriptor.
    private func stagedManifest(_ d: Descriptor) throws -> SourceManifest {
        let bytes: [UInt8]
        do { bytes = try store.content.readBlob(d.digest) } catch StoreError.blobMissing {
            throw StoreError.invalid("\(path): the archive lacks blob \(d.digest) (\(d.mediaType))")
        }
        guard Int64(bytes.count) == d.size else {
            throw StoreError.sizeMismatch(expected: d.size, actual: Int64(bytes.count), what: "\(path): blob \(d.digest)")
        }
        return SourceManifest(bytes: bytes, mediaType: d.mediaType, digest: d.digest)
    }

    /// The names an index entry carries: `io.containerd.image.name` (a full reference), or
    /// `org.opencontainers.image.ref.name` when that is a full reference (a bare tag names no
    /// repository, so it cannot name an image here).
    static func names(from annotations: [String: String]?, source: String) throws -> [ImageReference] {
        if let full = annotations?[AnnotationKey.containerdImageName] {
            do { return [try ImageReference(parsing: full)] } catch {
                throw StoreError.invalid("\(source): index.json has an invalid image name: \(error)")
            }
        }
        if let ref = annotations?[AnnotationKey.refName], ref.contains("/") || ref.contains(":"),
           let r = try? ImageReference(parsing: ref), r.tag != nil {
            return [r]
        }
        return []
    }
}
