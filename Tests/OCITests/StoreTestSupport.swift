import Foundation
@testable import OCI
import TestSupport

/// A fresh store in a temp directory, removed when the value is dropped.
final class TempStore {
    let dir: String
    let store: ImageStore

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-store-\(UUID().uuidString)").path
        store = try ImageStore(root: dir)
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    /// Stores an image of uncompressed "layers" (arbitrary bytes: the store does not parse them).
    @discardableResult
    func makeImage(layers contents: [String], tags: [String], format: ManifestFormat = .oci, cmd: String = "sh") throws -> StoredImage {
        var records: [LayerRecord] = []
        for c in contents {
            let d = try store.content.putBlob(Array(c.utf8))
            records.append(LayerRecord(digest: d, diffID: d, size: Int64(c.utf8.count), uncompressedSize: Int64(c.utf8.count),
                                       mediaType: MediaType.ociLayer))
        }
        let config = ImageConfig(platform: Platform(architecture: "amd64"), created: "2024-05-01T10:00:00Z",
                                 config: ContainerConfig(cmd: [cmd]), diffIDs: records.map(\.diffID),
                                 history: contents.map { History(created: "2024-05-01T10:00:00Z", createdBy: "RUN \($0)") })
        return try store.putImage(config: config, layers: records, format: format,
                                  tags: try tags.map { try ImageReference(parsing: $0) })
    }
}

/// A busybox root filesystem (busybox-static plus a few symlinks and files) as a directory
/// and a plain tar, made with the store's own LayerWriter. Tests that use it require
/// `.busybox` (busybox-static).
final class BusyboxRootfs {
    let dir: String
    let rootfs: String
    let tar: String

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-rootfs-\(UUID().uuidString)").path
        rootfs = dir + "/rootfs"
        tar = dir + "/rootfs.tar"
        let fm = FileManager.default
        try fm.createDirectory(atPath: rootfs + "/bin", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: rootfs + "/etc", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: rootfs + "/tmp", withIntermediateDirectories: true)
        try fm.copyItem(atPath: Host.executable("busybox") ?? "/bin/busybox", toPath: rootfs + "/bin/busybox")
        for tool in ["sh", "ls", "cat", "echo"] {
            try fm.createSymbolicLink(atPath: rootfs + "/bin/" + tool, withDestinationPath: "busybox")
        }
        try Data("root:x:0:0:root:/root:/bin/sh\n".utf8).write(to: URL(fileURLWithPath: rootfs + "/etc/passwd"))
        let sink = try FileSink(path: tar)
        try LayerWriter(options: LayerWriter.Options(compression: .none, sourceDateEpoch: 1_700_000_000))
            .writeTar(directory: rootfs, to: sink)
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }
}

/// Writes a tar archive from (path, bytes) pairs, for crafting image archives.
func writeTestArchive(_ path: String, _ files: [(String, [UInt8])]) throws {
    let tar = TarWriter(sink: try FileSink(path: path))
    for (name, bytes) in files {
        try tar.add(TarEntry(path: name, kind: .regular, mode: 0o644, size: Int64(bytes.count)))
        try bytes.withUnsafeBytes { try tar.writeData($0) }
    }
    try tar.finish()
}

/// Reads every regular file of a tar archive into memory (small test archives only).
func readTestArchive(_ path: String) throws -> [(String, [UInt8])] {
    let reader = TarReader(source: try FileSource(path: path))
    var out: [(String, [UInt8])] = []
    while let e = try reader.next() {
        if e.kind == .regular { out.append((e.path, try reader.readData())) }
    }
    return out
}
