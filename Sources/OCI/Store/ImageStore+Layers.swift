import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif
import System

extension ImageStore {
    /// A new private directory under `tmp/` (on the store's filesystem, so files made there can
    /// be renamed into `blobs/`). Its name carries this process's pid: if the process dies, the
    /// next `prune`/`fsck --repair` removes it. The caller removes it when done.
    public func makeTemporaryDirectory() throws -> String {
        let path = TempName.path(in: tmpDirectory, suffix: ".d")
        try StoreError.wrapping { try FileIO.check(mkdir(path, 0o700), "mkdir", path) }
        return path
    }

    /// Removes a directory made by `makeTemporaryDirectory` (errors ignored: GC retries).
    public func removeTemporaryDirectory(_ path: String) {
        try? FileSystem.removeTree(path)
    }

    /// Publishes a layer written by `LayerWriter` (whose digests were computed while it was
    /// written) into a directory of this store's filesystem, and records its facts.
    @discardableResult
    public func adoptLayer(_ blob: LayerBlob) throws -> LayerRecord {
        do {
            try content.publish(tempPath: blob.file, digest: blob.digest)
        } catch StoreError.system(let e) where e.errno == EXDEV {
            try content.putBlob(copying: blob.file, expected: blob.digest, expectedSize: blob.compressedSize)
            unlink(blob.file)
        }
        let record = LayerRecord(digest: blob.digest, diffID: blob.diffID, size: blob.compressedSize,
                                 uncompressedSize: blob.uncompressedSize, mediaType: blob.mediaType)
        try recordLayer(record)
        return record
    }

    /// Drops every lease this process holds, so blobs it wrote but never recorded become garbage.
    public func releaseLeases() throws {
        try locked { db in
            try db.execute(sql: "DELETE FROM leases WHERE pid = ?", arguments: [Int64(getpid())])
        }
    }

    /// Drops this process's leases on `digests` and deletes those blobs that nothing else needs
    /// (what a failed or finished load leaves over).
    public func discardUnreferenced(_ digests: Set<Digest>) throws {
        guard !digests.isEmpty else { return }
        try locked { db in
            let pid = Int64(getpid())
            for d in digests {
                try db.execute(sql: "DELETE FROM leases WHERE digest = ? AND pid = ?", arguments: [d.description, pid])
            }
            let needed = try neededBlobs(db)
            for d in digests where !needed.contains(d.encoded) {
                unlink(content.blobPath(d))
            }
        }
    }

    /// The record of a stored layer blob that a foreign manifest lists with diff ID `want`
    /// (pull, load, an OCI layout context): decompresses and hashes the blob to learn its real
    /// diff ID and uncompressed size, and refuses a diff ID the config does not list, so a
    /// config that lies about its layers never reaches the index and `images`/`history` show
    /// docker's uncompressed sizes. A layer already measured (in `known`, or in the store) is not
    /// decompressed again. nil for a media type that is not a known layer compression (the
    /// store's defaults apply). The one owner of that check, whatever the image came from.
    public func verifiedLayerRecord(_ layer: Descriptor, diffID want: Digest, what: String,
                                    known: LayerRecord? = nil) throws -> LayerRecord? {
        guard MediaType.layerCompression(layer.mediaType) != nil else { return nil }
        if let r = try known ?? layerRecord(digest: layer.digest), r.diffID == want, let size = r.uncompressedSize {
            return LayerRecord(digest: layer.digest, diffID: want, size: layer.size, uncompressedSize: size, mediaType: layer.mediaType)
        }
        let measured = try measureLayer(layer.digest, mediaType: layer.mediaType)
        guard measured.diffID == want else {
            throw StoreError.digestMismatch(expected: want, actual: measured.diffID,
                                            what: "\(what): uncompressed layer \(layer.digest) (diff_id from the image config)")
        }
        return LayerRecord(digest: layer.digest, diffID: want, size: layer.size, uncompressedSize: measured.size,
                           mediaType: layer.mediaType)
    }

    /// Streams a layer blob's uncompressed tar, checking it parses as tar, and returns its diff
    /// ID and uncompressed size. Verifies what a foreign manifest claims before it is recorded.
    public func measureLayer(_ digest: Digest, mediaType: String) throws -> (diffID: Digest, size: Int64) {
        let fd = try content.openBlob(digest)
        return try Self.measureLayer(FileSource(descriptor: fd, path: content.blobPath(digest), ownsDescriptor: true),
                                     digest: digest, mediaType: mediaType)
    }

    /// `measureLayer` of a layer blob in any file (a blob an archive is written from).
    public static func measureLayer(file path: String, digest: Digest, mediaType: String) throws -> (diffID: Digest, size: Int64) {
        try measureLayer(try FileSource(path: path), digest: digest, mediaType: mediaType)
    }

    private static func measureLayer(_ file: FileSource, digest: Digest, mediaType: String) throws -> (diffID: Digest, size: Int64) {
        guard let compression = MediaType.layerCompression(mediaType) else {
            throw ModelError.unknownMediaType(what: "layer \(digest)", mediaType: mediaType)
        }
        let hashing = HashingSource(try compression.decompressor(from: file))
        let reader = TarReader(source: hashing)
        do {
            while try reader.next() != nil {}
            let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
            defer { chunk.deallocate() }
            while try hashing.read(into: chunk) > 0 {}
        } catch {
            throw StoreError.invalid("layer \(digest) (\(mediaType)) is not a valid layer: \(error)")
        }
        return (hashing.finalize(), hashing.count)
    }
}
