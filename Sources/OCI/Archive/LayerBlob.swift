import Foundation

/// A compressed layer written to a temporary file, with both of its identities: `digest`
/// (sha256 of the compressed bytes, the blob's name in a store or registry) and `diffID`
/// (sha256 of the uncompressed tar, what an image config's rootfs.diff_ids lists).
public struct LayerBlob: Sendable, Hashable, CustomStringConvertible {
    public var digest: Digest
    public var diffID: Digest
    public var compressedSize: Int64
    public var uncompressedSize: Int64
    public var mediaType: String
    public var compression: LayerCompression
    /// Absolute path of the temporary file; the caller adopts it (rename) or removes it.
    public var file: String

    public init(digest: Digest, diffID: Digest, compressedSize: Int64, uncompressedSize: Int64,
                mediaType: String, compression: LayerCompression, file: String) {
        self.digest = digest
        self.diffID = diffID
        self.compressedSize = compressedSize
        self.uncompressedSize = uncompressedSize
        self.mediaType = mediaType
        self.compression = compression
        self.file = file
    }

    public var description: String {
        "\(digest) (\(mediaType), \(compressedSize) bytes; diffID \(diffID), \(uncompressedSize) bytes)"
    }
}
