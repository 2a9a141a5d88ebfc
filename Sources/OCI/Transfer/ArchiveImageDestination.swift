import Foundation
#if canImport(Glibc)
import Glibc
#endif
import System

/// An image archive being written as one tar stream — the one writer of both archive formats —
/// as an `ImageDestination`: `save` and `build --output type=oci|docker` copy images into it.
///
/// `.oci`: an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) holding the
/// manifests, configs and layers byte for byte, names in the index annotations
/// (`io.containerd.image.name`, `org.opencontainers.image.ref.name`).
/// `.docker`: a docker-archive in Docker 25's layout — `manifest.json` with `RepoTags`, and
/// uncompressed layer tars named by diff ID — plus `index.json` over a Docker v2 schema 2
/// manifest of those layers, so it is also a valid OCI layout.
///
/// Blobs stream into the tar as the copy hands them over, each checked against its digest on
/// the way (a corrupt source fails the copy; the caller discards the output); the metadata
/// files come last, as Docker writes them, once every image is in. A tar is one stream, so the
/// copy gives this destination one blob at a time (`sequential`).
public final class ArchiveImageDestination: ImageDestination, @unchecked Sendable {
    public let format: ManifestFormat
    /// The output as the user named it, for messages.
    public let path: String
    private let tar: TarWriter
    private let lock = NSLock()
    /// Blobs already in the tar, by the digest the copy knows them by (a docker-archive's
    /// layer by its compressed digest: it is written under its diff ID).
    private var written = Set<Digest>()
    /// Diff IDs of the uncompressed layers written into a docker-archive.
    private var writtenDiffIDs = Set<Digest>()
    /// A docker-archive's layers: compressed digest → diff ID and uncompressed size.
    private var converted: [Digest: (diffID: Digest, size: Int64)] = [:]
    private var entries: [Descriptor] = []
    private var items: [DockerManifestEntry] = []

    private struct DockerManifestEntry: Encodable {
        var Config: String
        var RepoTags: [String]?
        var Layers: [String]
    }

    public init(format: ManifestFormat, sink: ByteSink, path: String) {
        self.format = format
        self.path = path
        self.tar = TarWriter(sink: sink)
    }

    public var description: String { "\(format == .oci ? "OCI" : "docker") archive \(path)" }

    public var sequential: Bool { true }

    public func hasBlob(_ descriptor: Descriptor) async throws -> Bool {
        lock.withLock { written.contains(descriptor.digest) }
    }

    public func putBlob(_ descriptor: Descriptor, from source: any ImageSource,
                        progress: (@Sendable (Int64) -> Void)?) async throws -> BlobPut {
        let what = source.role(of: descriptor)
        if format == .docker, let compression = MediaType.layerCompression(descriptor.mediaType) {
            let file = try await localCopy(descriptor, from: source)
            defer { if file.temporary { unlink(file.path) } }
            let known = try source.layerFacts(descriptor)
            let facts = try await runOffPool {
                try known ?? ImageStore.measureLayer(file: file.path, digest: descriptor.digest, mediaType: descriptor.mediaType)
            }
            try await runOffPool { try self.writeUncompressedLayer(descriptor, compression: compression, file: file.path, facts: facts, what: what) }
            progress?(facts.size)
            return .copied(facts.size)
        }
        let n: Int64
        if let file = source.localFile(of: descriptor) {
            n = try await runOffPool { try self.writeBlob(descriptor, fromFile: file, what: what) }
            progress?(n)
        } else {
            try add(blob: descriptor.digest, size: descriptor.size)
            n = try await source.fetchBlob(descriptor, into: TarBlobReceiver(tar: tar, what: what), progress: progress)
        }
        lock.withLock { _ = written.insert(descriptor.digest) }
        return .copied(n)
    }

    public func putManifest(_ manifest: SourceManifest, parsed: ImageManifest, config: ImageConfig,
                            names: [ImageReference], reference: String) async throws -> Digest {
        let platform = config.platform
        switch format {
        case .oci:
            if !written.contains(manifest.digest) { try addBlob(manifest.digest, manifest.bytes) }
            written.insert(manifest.digest)
            entries += Self.indexEntries(Descriptor(mediaType: manifest.mediaType, digest: manifest.digest, size: Int64(manifest.bytes.count)),
                                         names: names, platform: platform)
            return manifest.digest
        case .docker:
            let layers = try parsed.layers.map { layer -> (diffID: Digest, size: Int64) in
                guard let facts = converted[layer.digest] else {
                    throw TransferError.invalidImage(what: reference, reason: "layer \(layer.digest) (\(layer.mediaType)) is not a layer a docker-archive can hold")
                }
                return facts
            }
            let dockerManifest = ImageManifest(
                format: .docker,
                config: Descriptor(mediaType: MediaType.dockerConfig, digest: parsed.config.digest, size: parsed.config.size),
                layers: layers.map { Descriptor(mediaType: MediaType.dockerLayer, digest: $0.diffID, size: $0.size) })
            let (bytes, d) = try CanonicalJSON.blob(dockerManifest, mediaType: MediaType.dockerManifest)
            if !written.contains(d.digest) { try addBlob(d.digest, bytes) }
            written.insert(d.digest)
            entries += Self.indexEntries(d, names: names, platform: platform)
            items.append(DockerManifestEntry(Config: "blobs/sha256/" + parsed.config.digest.encoded,
                                             RepoTags: names.isEmpty ? nil : names.map(\.familiar),
                                             Layers: layers.map { "blobs/sha256/" + $0.diffID.encoded }))
            return d.digest
        }
    }

    /// Writes the metadata files and the end of the archive (the caller then commits its output).
    public func finish() throws {
        guard !entries.isEmpty else { throw StoreError.invalid("nothing to save") }
        try addFile("index.json", try CanonicalJSON.encode(ImageIndex(format: .oci, manifests: entries)))
        if format == .docker { try addFile("manifest.json", try CanonicalJSON.encode(items)) }
        try addFile("oci-layout", Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        try tar.finish()
    }

    // MARK: - tar entries

    private func addFile(_ name: String, _ bytes: [UInt8]) throws {
        try tar.add(TarEntry(path: name, kind: .regular, mode: 0o644, size: Int64(bytes.count)))
        try bytes.withUnsafeBytes { try tar.writeData($0) }
    }

    private func addBlob(_ digest: Digest, _ bytes: [UInt8]) throws {
        try add(blob: digest, size: Int64(bytes.count))
        try bytes.withUnsafeBytes { try tar.writeData($0) }
    }

    private var directoriesAdded = false

    /// The header of `blobs/sha256/<digest>` (after the two directories, the first time).
    private func add(blob digest: Digest, size: Int64) throws {
        if !directoriesAdded {
            try tar.add(TarEntry(path: "blobs", kind: .directory, mode: 0o755))
            try tar.add(TarEntry(path: "blobs/sha256", kind: .directory, mode: 0o755))
            directoriesAdded = true
        }
        try tar.add(TarEntry(path: "blobs/sha256/" + digest.encoded, kind: .regular, mode: 0o644, size: size))
    }

    /// Streams a blob's file into the archive, checking its size and digest on the way.
    private func writeBlob(_ descriptor: Descriptor, fromFile file: String, what: String) throws -> Int64 {
        var st = stat()
        guard stat(file, &st) == 0 else { throw StoreError.io(path: file, operation: "stat", errno: errno) }
        guard Int64(st.st_size) == descriptor.size else {
            throw StoreError.corruptBlob(descriptor.digest, what: what, cause: "it is \(st.st_size) bytes, not \(descriptor.size)")
        }
        let fd = Glibc.open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.io(path: file, operation: "open", errno: errno) }
        defer { close(fd) }
        try add(blob: descriptor.digest, size: descriptor.size)
        var hasher = SHA256Hasher()
        try tar.writeData(fromDescriptor: fd, path: file) { hasher.update($0) }
        let actual = hasher.finalize()
        guard actual == descriptor.digest else {
            throw StoreError.corruptBlob(descriptor.digest, what: what, cause: "its content hashes to \(actual)")
        }
        return descriptor.size
    }

    /// Writes a layer decompressed, as `blobs/sha256/<diffID>`, checking both the blob's digest
    /// (what was read) and the diff ID (what was written).
    private func writeUncompressedLayer(_ descriptor: Descriptor, compression: LayerCompression, file path: String,
                                        facts: (diffID: Digest, size: Int64), what: String) throws {
        defer { lock.withLock { converted[descriptor.digest] = facts; _ = written.insert(descriptor.digest) } }
        if writtenDiffIDs.contains(facts.diffID) { return }
        let file = HashingSource(try FileSource(path: path))
        let source = HashingSource(try compression.decompressor(from: file))
        try add(blob: facts.diffID, size: facts.size)
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let n: Int
            do { n = try source.read(into: chunk) } catch let e as ArchiveError {
                throw StoreError.corruptBlob(descriptor.digest, what: what, cause: e.description)
            }
            if n == 0 { break }
            guard source.count <= facts.size else { break }
            try tar.writeData(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
        }
        guard source.count == facts.size else {
            throw StoreError.corruptBlob(descriptor.digest, what: what, cause: "it unpacks to \(source.count) bytes, not \(facts.size)")
        }
        // The decompressor may stop at its end marker: hash whatever follows, too.
        while (try? file.read(into: chunk)) ?? 0 > 0 {}
        let blobDigest = file.finalize()
        guard blobDigest == descriptor.digest else {
            throw StoreError.corruptBlob(descriptor.digest, what: what, cause: "its content hashes to \(blobDigest)")
        }
        let d = source.finalize()
        guard d == facts.diffID else {
            throw StoreError.corruptBlob(descriptor.digest, what: what, cause: "it unpacks to content with digest \(d), not its diff ID \(facts.diffID)")
        }
        writtenDiffIDs.insert(facts.diffID)
    }

    /// The blob as a local file: the source's own, or a temporary copy fetched (and verified)
    /// from it.
    private func localCopy(_ descriptor: Descriptor, from source: any ImageSource) async throws -> (path: String, temporary: Bool) {
        if let file = source.localFile(of: descriptor) { return (file, false) }
        let temp = TempName.path(in: NSTemporaryDirectory(), suffix: ".blob")
        let receiver = try FileBlobReceiver(path: temp)
        do {
            _ = try await source.fetchBlob(descriptor, into: receiver, progress: nil)
        } catch {
            receiver.abort()
            throw error
        }
        return (temp, true)
    }

    static func indexEntries(_ d: Descriptor, names: [ImageReference], platform: Platform) -> [Descriptor] {
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
}

/// A blob streamed straight into an archive entry whose header is already written: it hashes
/// what it passes on. An archive cannot take bytes back, so a source that must restart a
/// transfer fails it instead.
final class TarBlobReceiver: BlobReceiver, @unchecked Sendable {
    private let tar: TarWriter
    private let what: String
    private var hasher: SHA256Hasher? = SHA256Hasher()
    private var count: Int64 = 0

    init(tar: TarWriter, what: String) {
        self.tar = tar
        self.what = what
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        hasher?.update(bytes)
        count += Int64(bytes.count)
        try tar.writeData(bytes)
    }

    func restart() throws {
        throw StoreError.invalid("\(what): the transfer restarted, and bytes already written into the archive cannot be taken back; try again")
    }

    func finalize(expected: Digest, size: Int64?, what: String) throws -> Digest {
        if let size, count != size { throw StoreError.sizeMismatch(expected: size, actual: count, what: what) }
        guard let h = hasher.take() else { throw StoreError.invalid("\(what): finalized twice") }
        return h.finalize()
    }

    func abort() {}
}

/// A blob received into a plain file (a temporary copy), checked when finalized.
final class FileBlobReceiver: BlobReceiver, @unchecked Sendable {
    private let path: String
    private var sink: FileSink
    private var hasher: SHA256Hasher? = SHA256Hasher()
    private var count: Int64 = 0

    init(path: String) throws {
        self.path = path
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError.io(path: path, operation: "create", errno: errno) }
        sink = FileSink(descriptor: fd, path: path, ownsDescriptor: true)
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        hasher?.update(bytes)
        count += Int64(bytes.count)
        try sink.write(bytes)
    }

    func restart() throws {
        try? sink.finish()
        unlink(path)
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError.io(path: path, operation: "create", errno: errno) }
        sink = FileSink(descriptor: fd, path: path, ownsDescriptor: true)
        hasher = SHA256Hasher()
        count = 0
    }

    func finalize(expected: Digest, size: Int64?, what: String) throws -> Digest {
        try sink.finish()
        if let size, count != size { throw StoreError.sizeMismatch(expected: size, actual: count, what: what) }
        guard let h = hasher.take() else { throw StoreError.invalid("\(what): finalized twice") }
        return h.finalize()
    }

    func abort() {
        try? sink.finish()
        unlink(path)
    }
}
