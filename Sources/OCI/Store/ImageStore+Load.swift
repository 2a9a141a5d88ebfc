import Foundation
#if canImport(Glibc)
import Glibc
#endif
import System

/// An image `load` recorded, with the names the archive gave it.
public struct LoadedImage: Sendable {
    public var image: StoredImage
    public var names: [ImageReference]
}

extension ImageStore {
    /// `slipway load`: reads an OCI image layout archive (`index.json` + `blobs/`) or a
    /// docker-archive (`manifest.json`, with layers as `<id>/layer.tar` in the old layout or
    /// `blobs/sha256/…` in the new), optionally gzip/zstd compressed.
    ///
    /// Every blob is verified as it streams in (against its name where the archive gives one),
    /// every layer against its config's diff_id, and every manifest against its index entry.
    /// Images are recorded only after all of them verified; on error none are and the blobs
    /// written so far are removed again. `-` reads standard input.
    public func load(archive path: String) throws -> [LoadedImage] {
        var written = Set<Digest>()
        do {
            let result = try loadArchive(path, written: &written)
            try discardUnreferenced(written)
            return result
        } catch {
            try? discardUnreferenced(written)
            throw error
        }
    }

    private static let metadataNames: Set<String> = ["index.json", "manifest.json", "oci-layout", "repositories"]

    private func loadArchive(_ path: String, written: inout Set<Digest>) throws -> [LoadedImage] {
        let file: FileSource
        if path == "-" {
            file = FileSource(descriptor: 0, path: "<stdin>", ownsDescriptor: false)
        } else {
            guard FileSystem.exists(path) else { throw StoreError.io(path: path, operation: "open", errno: ENOENT) }
            file = try FileSource(path: path)
        }
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
                written.insert(digest)
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
            return try loadDockerArchive(manifestJSON, blob: blob, source: path, written: &written)
        }
        if let indexJSON = metadata["index.json"] {
            return try loadOCILayout(indexJSON, source: path)
        }
        if metadata["repositories"] != nil {
            throw StoreError.invalid("\(path): a docker-archive without manifest.json (saved by Docker before 1.10) is not supported")
        }
        throw StoreError.invalid("\(path): not an image archive (it has neither index.json nor manifest.json)")
    }

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

    private func loadDockerArchive(_ json: [UInt8], blob: (String) throws -> Digest, source: String,
                                   written: inout Set<Digest>) throws -> [LoadedImage] {
        let items: [DockerManifestItem]
        do {
            items = try CanonicalJSON.decode([DockerManifestItem].self, from: json)
        } catch {
            throw ModelError.badJSON(what: "\(source): manifest.json", reason: CanonicalJSON.describe(error))
        }
        guard !items.isEmpty else { throw StoreError.invalid("\(source): manifest.json lists no images") }
        var prepared: [([UInt8], [ImageReference], [LayerRecord])] = []
        for item in items {
            let configDigest = try blob(item.Config)
            // Old layouts name the config `<hex>.json`: that hex must be its digest.
            let base = (item.Config as NSString).lastPathComponent
            if base.hasSuffix(".json"), base.count == 69, configDigest.encoded != String(base.dropLast(5)) {
                throw StoreError.digestMismatch(expected: try Digest(parsing: "sha256:" + base.dropLast(5)), actual: configDigest,
                                                what: "\(source): config \(item.Config)")
            }
            let configBytes = try content.readBlob(configDigest)
            let config = try ImageConfig.decode(configBytes, source: "\(source): config \(item.Config)")
            guard config.rootfs.diffIDs.count == item.Layers.count else {
                throw StoreError.invalid("\(source): manifest.json lists \(item.Layers.count) layers but config \(item.Config) has \(config.rootfs.diffIDs.count) diff_ids")
            }
            var records: [LayerRecord] = []
            for (i, layerPath) in item.Layers.enumerated() {
                let want = config.rootfs.diffIDs[i]
                if let known = try layerRecord(diffID: want), known.uncompressedSize != nil, try content.lease(known.digest) {
                    records.append(known)
                    continue
                }
                let raw = try blob(layerPath)
                // Layers in a docker-archive are tars (usually uncompressed); the store keeps them
                // gzip-compressed like `import` does, so the same tar gives the same blob.
                let tmp = try makeTemporaryDirectory()
                defer { removeTemporaryDirectory(tmp) }
                let layer: LayerBlob
                do {
                    let src = try AutoDecompressor(from: FileSource(descriptor: try content.openBlob(raw), path: layerPath, ownsDescriptor: true))
                    layer = try LayerWriter(options: LayerWriter.Options(compression: .gzip)).write(tarStream: src, into: tmp)
                } catch {
                    throw StoreError.invalid("\(source): layer \(layerPath) is not a valid layer tar: \(error)")
                }
                guard layer.diffID == want else {
                    throw StoreError.digestMismatch(expected: want, actual: layer.diffID, what: "\(source): layer \(layerPath) (diff_id from the config)")
                }
                let r = try adoptLayer(layer)
                written.insert(r.digest)
                records.append(r)
            }
            let manifest = ImageManifest(format: .oci,
                                         config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configBytes.count)),
                                         layers: records.map(\.descriptor))
            let names = try (item.RepoTags ?? []).map { tag in
                do { return try ImageReference(parsing: tag) } catch {
                    throw StoreError.invalid("\(source): manifest.json has an invalid RepoTag: \(error)")
                }
            }
            prepared.append((try CanonicalJSON.encode(manifest), names, records))
        }
        return try prepared.map { bytes, names, records in
            LoadedImage(image: try putImage(manifest: bytes, tags: names, layers: records), names: names)
        }
    }

    // MARK: OCI image layout

    private func loadOCILayout(_ json: [UInt8], source: String) throws -> [LoadedImage] {
        let index = try ImageIndex.decode(json, source: "\(source): index.json")
        var prepared: [([UInt8], [ImageReference], [LayerRecord])] = []
        var verified: [Digest: LayerRecord] = [:]
        for d in index.manifests {
            let names = try Self.names(from: d.annotations, source: source)
            if MediaType.isManifest(d.mediaType) {
                prepared.append(try prepareManifest(d, names: names, source: source, verified: &verified))
            } else if MediaType.isIndex(d.mediaType) {
                let nested = try ImageIndex.decode(try verifiedBlob(d, source: source), source: "\(source): index \(d.digest)")
                let best = nested.bestManifest(for: .host) ?? nested.manifests.first { MediaType.isManifest($0.mediaType) }
                for child in nested.manifests where MediaType.isManifest(child.mediaType) {
                    // Skip attestation manifests and the like (platform unknown/unknown).
                    if child.platform?.os == "unknown" { continue }
                    prepared.append(try prepareManifest(child, names: child == best ? names : [], source: source, verified: &verified))
                }
            }
        }
        guard !prepared.isEmpty else {
            throw StoreError.invalid("\(source): index.json lists no image manifests (media types: \(index.manifests.map(\.mediaType).joined(separator: ", ")))")
        }
        return try prepared.map { bytes, names, records in
            LoadedImage(image: try putImage(manifest: bytes, tags: names, layers: records), names: names)
        }
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

    private func verifiedBlob(_ d: Descriptor, source: String) throws -> [UInt8] {
        let bytes: [UInt8]
        do { bytes = try content.readBlob(d.digest) } catch StoreError.blobMissing {
            throw StoreError.invalid("\(source): the archive lacks blob \(d.digest) (\(d.mediaType))")
        }
        guard Int64(bytes.count) == d.size else {
            throw StoreError.sizeMismatch(expected: d.size, actual: Int64(bytes.count), what: "\(source): blob \(d.digest)")
        }
        return bytes
    }

    private func prepareManifest(_ d: Descriptor, names: [ImageReference], source: String,
                                 verified: inout [Digest: LayerRecord]) throws -> ([UInt8], [ImageReference], [LayerRecord]) {
        let bytes = try verifiedBlob(d, source: source)
        let manifest = try ImageManifest.decode(bytes, source: "\(source): manifest \(d.digest)")
        guard MediaType.isConfig(manifest.config.mediaType) else {
            throw ModelError.unknownMediaType(what: "\(source): config of manifest \(d.digest)", mediaType: manifest.config.mediaType)
        }
        let config = try ImageConfig.decode(try verifiedBlob(manifest.config, source: source),
                                            source: "\(source): config \(manifest.config.digest)")
        guard config.rootfs.diffIDs.count == manifest.layers.count else {
            throw StoreError.invalid("\(source): manifest \(d.digest) has \(manifest.layers.count) layers but its config has \(config.rootfs.diffIDs.count) diff_ids")
        }
        var records: [LayerRecord] = []
        for (i, layer) in manifest.layers.enumerated() {
            guard let size = content.blobSize(layer.digest) else {
                throw StoreError.invalid("\(source): the archive lacks layer blob \(layer.digest)")
            }
            guard size == layer.size else {
                throw StoreError.sizeMismatch(expected: layer.size, actual: size, what: "\(source): layer \(layer.digest)")
            }
            let want = config.rootfs.diffIDs[i]
            guard let r = try verifiedLayerRecord(layer, diffID: want, what: source, known: verified[layer.digest]) else {
                throw ModelError.unknownMediaType(what: "\(source): layer \(layer.digest)", mediaType: layer.mediaType)
            }
            verified[layer.digest] = r
            records.append(r)
        }
        return (bytes, names, records)
    }
}
