import Foundation
import Testing
@testable import OCI
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Real images from the shared conformance set (Docker- and BuildKit-written layers, with
/// whiteouts and busybox's hardlinks): the diffIDs we compute match the image configs, and
/// applying the layers gives the expected tree.
@Suite("Archive conformance images", .requires(.conformance("dive", containing: "test-docker-image.tar")))
struct ArchiveConformanceTests {
    /// dive's archives: `../shared/conformance/dive`, or `$SLIPWAY_CONFORMANCE/dive` for a
    /// worktree that is not next to shared/.
    static func dive() throws -> String { try #require(Host.conformance("dive")) }

    static func json(_ path: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Unpacks an image archive with our own applier (it is a tar too).
    static func unpack(_ archive: String, into dir: String) throws {
        try LayerApplier(mode: .flatten).apply(blob: archive, to: dir)
    }

    @Test("docker-archive layers: diffIDs match and whiteouts apply")
    func dockerArchive() throws {
        let dive = try Self.dive()
        let scratch = ScratchDir("conf")
        let image = scratch.sub("image")
        try Self.unpack(dive + "/test-docker-image.tar", into: image)
        let manifest = try #require((try Self.json(image + "/manifest.json") as? [[String: Any]])?.first)
        let layers = try #require(manifest["Layers"] as? [String])
        let config = try #require(try Self.json(image + "/" + (manifest["Config"] as? String ?? "")) as? [String: Any])
        let diffIDs = try #require((config["rootfs"] as? [String: Any])?["diff_ids"] as? [String])
        #expect(layers.count == diffIDs.count)
        let rootfs = scratch.sub("rootfs")
        for (layer, diffID) in zip(layers, diffIDs) {
            let summary = try LayerReader.summarize(blob: image + "/" + layer)
            #expect(summary.diffID.description == diffID, "\(layer)")
            let applied = try LayerApplier(mode: .flatten).apply(blob: image + "/" + layer, to: rootfs)
            #expect(applied.diffID.description == diffID)
        }
        #expect(readFile(rootfs + "/somefile.txt") != nil)
        #expect(readFile(rootfs + "/tmp/saved.again1.txt") != nil)
        #expect(readFile(rootfs + "/root/.data/saved.again2.txt") != nil)
        #expect(!FileManager.default.fileExists(atPath: rootfs + "/root/example"))
        var st = stat()
        #expect(lstat(rootfs + "/root/saved.txt", &st) == 0 && st.st_mode & 0o111 != 0)
        #expect(lstat(rootfs + "/bin/busybox", &st) == 0 && st.st_nlink > 100)   // busybox's hardlinks
    }

    @Test("OCI archives with gzip, zstd and plain layers give the same tree")
    func ociArchives() throws {
        let dive = try Self.dive()
        let scratch = ScratchDir("conf")
        var trees: [String: [String: String]] = [:]
        for kind in ["gzip", "zstd", "uncompressed"] {
            let image = scratch.sub(kind)
            try Self.unpack(dive + "/test-oci-\(kind)-image.tar", into: image)
            func blob(_ digest: String) -> String { image + "/blobs/sha256/" + digest.replacingOccurrences(of: "sha256:", with: "") }
            let index = try #require(try Self.json(image + "/index.json") as? [String: Any])
            let manifestDigest = try #require((index["manifests"] as? [[String: Any]])?.first?["digest"] as? String)
            let manifest = try #require(try Self.json(blob(manifestDigest)) as? [String: Any])
            let configDigest = try #require((manifest["config"] as? [String: Any])?["digest"] as? String)
            let config = try #require(try Self.json(blob(configDigest)) as? [String: Any])
            let diffIDs = try #require((config["rootfs"] as? [String: Any])?["diff_ids"] as? [String])
            let layers = try #require(manifest["layers"] as? [[String: Any]])
            let rootfs = scratch.sub(kind + "-rootfs")
            for (layer, diffID) in zip(layers, diffIDs) {
                let digest = try #require(layer["digest"] as? String)
                let mediaType = try #require(layer["mediaType"] as? String)
                let result = try LayerApplier().apply(blob: blob(digest), to: rootfs)
                #expect(result.diffID.description == diffID)
                #expect(result.compression == (try LayerCompression(mediaType: mediaType)))
            }
            trees[kind] = try snapshot(rootfs)
        }
        #expect(trees["gzip"]?.isEmpty == false)
        #expect(trees["gzip"] == trees["zstd"])
        #expect(trees["gzip"] == trees["uncompressed"])
    }
}
