import Foundation
#if canImport(Glibc)
import Glibc
#endif
import System

extension ImageStore {
    /// A directory holding the layer with this diff ID extracted on its own in overlayfs-lower
    /// form (whiteouts as 0:0 character devices, opaque directories marked with
    /// `trusted.overlay.opaque=y`), ready to be stacked as an overlay `lowerdir`. Extracted once
    /// into a temp directory, verified against the diff ID, synced, and renamed to
    /// `snapshots/<hex>`; later calls return that path at once. Treat it as read-only; it stays while this process
    /// runs (a lease) and afterwards while any image or cache record uses the layer.
    ///
    /// `below`: the unpacked layers under this one in the image, topmost first. A parent
    /// directory the layer does not list (only `tmp/foo`, no `tmp/`) then gets that directory's
    /// metadata from them instead of 0755 root, so it does not mask a lower `/tmp` (1777) in the
    /// overlay (`LayerApplier.lowerDirectories`). Snapshots are keyed by diff ID alone: a layer
    /// unpacked first on one base keeps that base's metadata for such implicit parents.
    public func unpackedLayerPath(diffID: Digest, below: [String] = []) throws -> String {
        // The lease keeps the layer record, and so its snapshot, from a concurrent collection
        // for as long as this process runs.
        guard let layer = try layerRecord(diffID: diffID), try content.lease(layer.digest) else {
            throw StoreError.invalid("no layer with diff ID \(diffID) is in the store")
        }
        return try unpackLayer(digest: layer.digest, diffID: diffID, below: below)
    }

    /// Unpacks the layer blob `digest` into `snapshots/<diffID>` once (the one unpacker of
    /// snapshots: `run` and the build engine both come here): into a pid-named temp directory
    /// in `snapshots/` (what a killed process leaves, the next command removes), checked against
    /// `diffID` — a blob whose content is not what its image records never becomes the snapshot
    /// every later image with that diff ID shares (`StoreError.diffIDMismatch`) — synced, and
    /// renamed into place; another process that got there first wins. `tracking` is told the
    /// temp directory as soon as it exists and returns what to call when it is gone (the build
    /// registers it for cleanup on Ctrl-C).
    public func unpackLayer(digest: Digest, diffID: Digest, below: [String] = [],
                            tracking: ((String) throws -> () -> Void)? = nil) throws -> String {
        let path = snapshotsDirectory + "/" + diffID.encoded
        if FileSystem.isDirectory(path) { return path }
        let tmp = TempName.path(in: snapshotsDirectory, suffix: ".d")
        try StoreError.wrapping { try FileIO.check(mkdir(tmp, 0o755), "mkdir", tmp) }
        var release: (() -> Void)?
        defer { release?() }
        do {
            release = try tracking?(tmp)
            let result = try LayerApplier(mode: .overlayLower, lowerDirectories: below).apply(blob: content.blobPath(digest), to: tmp)
            guard result.diffID == diffID else {
                throw StoreError.diffIDMismatch(layer: digest, expected: diffID, actual: result.diffID)
            }
            let fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd >= 0 {
                _ = storeSyncfs(fd)
                close(fd)
            }
            if rename(tmp, path) != 0 {
                let e = errno
                // Another process unpacked the same layer first: use theirs.
                guard (e == EEXIST || e == ENOTEMPTY), FileSystem.isDirectory(path) else {
                    throw StoreError.io(path: path, operation: "rename snapshot to", errno: e)
                }
                try? FileSystem.removeTree(tmp)
            }
            try FileSystem.fsyncDirectory(snapshotsDirectory)
        } catch {
            try? FileSystem.removeTree(tmp)
            throw StoreError.readingBlob(error, digest, what: "unpacking the layer with diff ID \(diffID)")
        }
        return path
    }
}

/// syncfs(2) flushes only the store's filesystem (Glibc's module map hides it behind _GNU_SOURCE).
@_silgen_name("syncfs")
private func storeSyncfs(_ fd: Int32) -> Int32
