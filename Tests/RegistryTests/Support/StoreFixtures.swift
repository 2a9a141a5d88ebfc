import Foundation
import OCI

/// A fresh store in a temp directory.
struct TestStore {
    let dir: TempDir
    let store: ImageStore

    init() throws {
        dir = try TempDir("store")
        store = try ImageStore(root: dir.path)
    }

    func remove() { dir.remove() }

    /// Imports a one-layer image whose rootfs holds `files` random files of `fileSize` bytes
    /// (random, so the layer does not compress away), tagged `tag`.
    @discardableResult
    func importImage(tag: String, files: Int = 3, fileSize: Int = 200_000) async throws -> StoredImage {
        let work = try TempDir("rootfs")
        defer { work.remove() }
        let root = work.file("root")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("data"), withIntermediateDirectories: true)
        for i in 0..<files {
            _ = try TestBlob(size: fileSize, in: work, name: "root/data/file\(i)")
        }
        try "hello from \(tag)\n".write(to: root.appendingPathComponent("hello.txt"), atomically: true, encoding: .utf8)
        let tar = work.file("rootfs.tar").path
        let (status, output) = try await runCommand("/bin/tar", ["-C", root.path, "-cf", tar, "."])
        guard status == 0 else { throw TestSupportError("tar failed: \(output)") }
        return try await ImageArchive.importRootfs(from: tar, into: store, tags: [try ImageReference(parsing: tag)])
    }
}
