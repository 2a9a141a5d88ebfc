import Foundation
#if canImport(Glibc)
import Glibc
#endif
import System

/// An OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/…`) as an
/// `ImageDestination`: `build -o type=oci,tar=false,dest=DIR`, and the `type=local` build cache.
/// The one writer of layout directories (`OCILayoutSource` is the one reader).
///
/// Blobs already there (by name and size) are kept; a new blob is written to a temp file in
/// `blobs/sha256/`, checked against its digest while it streams, and renamed into place, so a
/// failed copy never leaves a blob under a wrong name. `finish()` replaces `index.json`
/// atomically: the entries it had, less those whose names a new image takes, plus the new ones.
public final class OCILayoutDestination: ImageDestination, @unchecked Sendable {
    public let directory: String
    private let lock = NSLock()
    private var entries: [Descriptor] = []
    private var replacesAll = false

    /// Creates the layout's directories and `oci-layout` when missing.
    public init(directory: String) throws {
        self.directory = directory
        try StoreError.wrapping {
            try FileSystem.makeDirectories(directory + "/blobs/sha256")
            let layout = directory + "/oci-layout"
            if !FileSystem.exists(layout) {
                try FileIO.writeAtomically(Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), to: layout, tmpDir: directory)
            }
        }
    }

    public var description: String { "OCI layout \(directory)" }

    public func blobPath(_ digest: Digest) -> String { directory + "/blobs/" + digest.algorithm + "/" + digest.encoded }

    public func hasBlob(_ descriptor: Descriptor) async throws -> Bool {
        var st = stat()
        return lstat(blobPath(descriptor.digest), &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && Int64(st.st_size) == descriptor.size
    }

    public func putBlob(_ descriptor: Descriptor, from source: any ImageSource,
                        progress: (@Sendable (Int64) -> Void)?) async throws -> BlobPut {
        let temp = TempName.path(in: directory + "/blobs/sha256", suffix: ".tmp")
        let receiver = try FileBlobReceiver(path: temp)
        do {
            let n = try await source.fetchBlob(descriptor, into: receiver, progress: progress)
            try publish(temp, as: descriptor.digest)
            return .copied(n)
        } catch {
            receiver.abort()
            throw error
        }
    }

    /// Writes a small blob (a config, a manifest) unless it is there already.
    public func putBlob(_ bytes: [UInt8]) throws -> Descriptor {
        let digest = Digest.sha256(Data(bytes))
        let path = blobPath(digest)
        if !FileSystem.exists(path) {
            try StoreError.wrapping { try FileIO.writeAtomically(bytes, to: path, tmpDir: directory + "/blobs/sha256") }
        }
        return Descriptor(mediaType: "", digest: digest, size: Int64(bytes.count))
    }

    /// Copies the file of a blob in (verifying its digest) unless it is there already.
    public func putBlob(copying file: String, as descriptor: Descriptor, what: String) throws {
        var st = stat()
        if lstat(blobPath(descriptor.digest), &st) == 0, Int64(st.st_size) == descriptor.size { return }
        let temp = TempName.path(in: directory + "/blobs/sha256", suffix: ".tmp")
        let receiver = try FileBlobReceiver(path: temp)
        do {
            _ = try receiver.receive(file: file, as: descriptor, what: what, progress: nil) { actual in
                StoreError.digestMismatch(expected: descriptor.digest, actual: actual, what: what)
            }
        } catch {
            receiver.abort()   // a read error mid-way: no temp file left in the layout
            throw error
        }
        try publish(temp, as: descriptor.digest)
    }

    private func publish(_ temp: String, as digest: Digest) throws {
        if rename(temp, blobPath(digest)) != 0 {
            let failure = SystemError.last("rename to \(blobPath(digest))", path: temp)
            unlink(temp)
            throw StoreError.system(failure)
        }
    }

    public func putManifest(_ manifest: SourceManifest, parsed: ImageManifest, config: ImageConfig,
                            names: [ImageReference], reference: String) async throws -> Digest {
        _ = try putBlob(manifest.bytes)
        let d = Descriptor(mediaType: manifest.mediaType, digest: manifest.digest, size: Int64(manifest.bytes.count))
        lock.withLock { entries += ArchiveImageDestination.indexEntries(d, names: names, platform: config.platform) }
        return manifest.digest
    }

    /// Lists `descriptor` in the index as its only entry when `finish()` writes it (a cache
    /// directory holds one manifest).
    public func setOnlyEntry(_ descriptor: Descriptor) {
        lock.withLock {
            entries = [descriptor]
            replacesAll = true
        }
    }

    /// Writes `index.json`: the earlier entries whose names no new entry takes (an untagged
    /// earlier entry stays, unless it is the same manifest), then the new ones.
    public func finish() throws {
        let (new, all) = lock.withLock { (entries, replacesAll) }
        var kept: [Descriptor] = []
        if !all, FileSystem.exists(directory + "/index.json") {
            let old = try ImageIndex.decode(try StoreError.wrapping { try FileIO.readFile(directory + "/index.json") },
                                            source: directory + "/index.json")
            let newNames = Set(new.compactMap { $0.annotations?[AnnotationKey.containerdImageName] })
            let newDigests = Set(new.map(\.digest))
            kept = old.manifests.filter { e in
                if let name = e.annotations?[AnnotationKey.containerdImageName] { return !newNames.contains(name) }
                return !newDigests.contains(e.digest)
            }
        }
        let index = try CanonicalJSON.encode(ImageIndex(format: .oci, manifests: kept + new))
        try StoreError.wrapping { try FileIO.writeAtomically(index, to: directory + "/index.json", tmpDir: directory) }
    }
}
