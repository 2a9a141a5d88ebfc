import Foundation
import OCI

/// Why an image could not be read for analysis.
public enum ImageLoadError: Error, CustomStringConvertible, LocalizedError {
    case notFound(String)
    case invalid(path: String, reason: String)
    case layer(path: String, reason: String)

    public var description: String {
        switch self {
        case .notFound(let spec):
            return "no image '\(spec)': not in the store, and not an OCI layout directory or an image archive file"
        case .invalid(let path, let reason):
            return reason.hasPrefix(path) ? reason : "\(path): \(reason)"
        case .layer(let path, let reason):
            return "cannot read layer \(path): \(reason)"
        }
    }

    public var errorDescription: String? { description }
}

/// A blob-backed image: its config and its layers' blob files, wherever they came from.
struct BlobImage {
    var name: String
    var config: ImageConfig
    var layers: [(path: String, descriptor: Descriptor)]
}

/// Reads images for `analyze` and `compare` from the local store, an OCI layout directory, or
/// an archive file (OCI layout tar, docker-archive old or new layout, optionally compressed).
public enum ImageLoader {
    /// Resolves `spec` and reads every layer's entries.
    ///
    /// - `oci:DIR`, `oci-archive:FILE`, `docker-archive:FILE` force a source; otherwise an
    ///   existing directory is an OCI layout, an existing file an archive, and anything else a
    ///   name or ID in the store at `storeRoot`.
    ///
    /// `archiveStore`: load archives into this store rather than a throw-away one. Its layers
    /// are never read or re-compressed again (the store's `load` reuses a layer it has by diff
    /// ID), so a caller reading many archives of images over one base pays for the base once.
    public static func load(_ spec: String, storeRoot: String, archiveStore: String? = nil) async throws -> ImageInput {
        var path = spec
        var forced: String?
        for prefix in ["oci:", "oci-archive:", "docker-archive:"] where spec.hasPrefix(prefix) {
            forced = prefix
            path = String(spec.dropFirst(prefix.count))
        }
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if forced == "oci:" || (forced == nil && exists && isDirectory.boolValue) {
            return try scan(try layoutImage(directory: path, name: spec))
        }
        if forced != nil || exists {
            guard exists else { throw ImageLoadError.notFound(spec) }
            return try await withArchive(path, store: archiveStore) { try scan($0) }
        }
        let store: ImageStore
        do {
            store = try ImageStore(root: storeRoot)
        } catch {
            throw ImageLoadError.invalid(path: storeRoot, reason: "cannot open the image store: \(error)")
        }
        let image: StoredImage
        do {
            image = try store.resolve(spec)
        } catch {
            throw ImageLoadError.notFound(spec)
        }
        return try scan(try storedImage(image, in: store, name: spec))
    }

    static func storedImage(_ image: StoredImage, in store: ImageStore, name: String) throws -> BlobImage {
        let manifest = try store.manifest(of: image)
        let config = try store.config(of: image)
        return BlobImage(name: name, config: config,
                         layers: manifest.layers.map { (store.content.blobPath($0.digest), $0) })
    }

    /// Loads an archive into a throw-away store, or `store` when given (verifying every blob),
    /// then reads from there.
    static func withArchive<T>(_ path: String, store root: String? = nil, _ body: (BlobImage) throws -> T) async throws -> T {
        let temp = NSTemporaryDirectory() + "slipway-analyze-" + UUID().uuidString
        defer { if root == nil { try? FileManager.default.removeItem(atPath: temp) } }
        let store: ImageStore
        let loaded: [LoadedImage]
        do {
            store = try ImageStore(root: root ?? temp)
            loaded = try await ImageArchive.load(path, into: store)
        } catch {
            throw ImageLoadError.invalid(path: path, reason: "\(error)")
        }
        guard let first = loaded.first else {
            throw ImageLoadError.invalid(path: path, reason: "the archive holds no image")
        }
        let name = first.names.first.map { "\($0)" } ?? (path as NSString).lastPathComponent
        return try body(try storedImage(first.image, in: store, name: name))
    }

    /// An OCI image layout directory (`oci-layout`, `index.json`, `blobs/`), read by the one
    /// layout reader (`OCILayoutSource`); an index gives the linux/amd64 image, else the first.
    static func layoutImage(directory: String, name: String) throws -> BlobImage {
        let layout: OCILayoutSource
        let image: (manifest: ImageManifest, config: ImageConfig)
        do {
            layout = try OCILayoutSource(directory: directory)
            image = try layout.image(platform: Platform(os: "linux", architecture: "amd64"))
        } catch let error as StoreError {
            throw ImageLoadError.invalid(path: directory, reason: error.description)
        }
        return BlobImage(name: name, config: image.config,
                         layers: image.manifest.layers.map { (layout.blobPath($0.digest), $0) })
    }

    /// Reads every layer's entries, hashing file content to tell modified from unchanged files.
    static func scan(_ image: BlobImage) throws -> ImageInput {
        // History entries that made layers, in order (dive's pairing).
        let history = (image.config.history ?? []).filter { $0.emptyLayer != true }
        var layers: [LayerInput] = []
        for (index, layer) in image.layers.enumerated() {
            var entries: [LayerEntry] = []
            var captured: [String: [UInt8]] = [:]
            do {
                let reader = try LayerReader(blob: layer.path)
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
                defer { buffer.deallocate() }
                while let entry = try reader.next() {
                    let path = LayerEntry.normalize(entry.path)
                    if path.isEmpty { continue }
                    var hash: UInt64 = 0
                    var executable: ExecutableFormat?
                    if entry.kind == .regular {
                        if ImageInput.shouldCapture(path), entry.size <= 64 << 20 {
                            let data = try reader.readData(limit: 256 << 20)
                            captured[path] = data
                            hash = contentHash(data)
                        } else {
                            var hasher = SHA256Hasher()
                            let wantsHead = entry.mode & 0o111 != 0
                            var head: [UInt8] = []
                            while true {
                                let count = try reader.read(into: buffer)
                                if count <= 0 { break }
                                hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                                if wantsHead, head.count < 4096 {
                                    head.append(contentsOf: buffer[0..<min(count, 4096 - head.count)])
                                }
                            }
                            hash = prefixHash(hasher.finalize())
                            if wantsHead { executable = ExecutableFormat.detect(head) }
                        }
                    } else if entry.kind == .symlink || entry.kind == .hardlink {
                        hash = contentHash(Array(entry.linkName.utf8))
                    }
                    entries.append(LayerEntry(path: path, kind: kind(entry.kind), size: entry.size,
                                              mode: entry.mode & 0o7777, uid: entry.uid, gid: entry.gid,
                                              linkTarget: entry.linkName, contentHash: hash, executable: executable))
                }
            } catch {
                throw ImageLoadError.layer(path: layer.path, reason: "\(error)")
            }
            let command = index < history.count ? (history[index].createdBy ?? "") : ""
            layers.append(LayerInput(digest: layer.descriptor.digest.description, command: command,
                                     blobSize: layer.descriptor.size, entries: entries, captured: captured))
        }
        let container = image.config.config
        var input = ImageInput(name: image.name, layers: layers, user: container?.user ?? "",
                               os: image.config.os, architecture: image.config.architecture,
                               entrypoint: container?.entrypoint ?? [], cmd: container?.cmd ?? [],
                               workingDir: container?.workingDir ?? "")
        if let path = container?.environment("PATH") { input.path = path }
        input.config = image.config
        return input
    }

    static func kind(_ kind: TarEntry.Kind) -> EntryKind {
        switch kind {
        case .regular: return .file
        case .directory: return .directory
        case .symlink: return .symlink
        case .hardlink: return .hardlink
        case .characterDevice: return .charDevice
        case .blockDevice: return .blockDevice
        case .fifo: return .fifo
        case .other: return .other
        }
    }

    /// The content hash `LayerEntry.contentHash` holds for a file with these bytes (a link's
    /// target), so callers can state expected content without reading a layer.
    public static func contentHash(_ bytes: [UInt8]) -> UInt64 {
        var hasher = SHA256Hasher()
        hasher.update(bytes)
        return prefixHash(hasher.finalize())
    }

    static func prefixHash(_ digest: Digest) -> UInt64 {
        UInt64(digest.encoded.prefix(16), radix: 16) ?? 0
    }
}
