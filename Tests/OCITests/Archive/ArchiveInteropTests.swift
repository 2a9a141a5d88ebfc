import Foundation
import Testing
@testable import OCI
#if canImport(Glibc)
import Glibc
#endif

/// Layers exchanged with other tools: GNU tar extracts ours to the same tree, and layers
/// written by umoci (whiteouts included) apply to the tree umoci itself unpacks.
@Suite("Archive interop")
struct ArchiveInteropTests {
    @Test("GNU tar extracts our layer to the original tree", arguments: [LayerCompression.gzip, .zstd])
    func gnuTarExtractsOurs(compression: LayerCompression) async throws {
        let dir = ScratchDir("interop")
        let tree = dir.sub("tree")
        try await makeSampleTree(tree)
        let blob = try LayerWriter(options: .init(compression: compression)).write(directory: tree, into: dir.path)
        let out = dir.sub("out")
        let cat = compression == .gzip ? "gzip -dc" : "zstd -dc"
        try await shell("\(cat) '\(blob.file)' | tar --xattrs --xattrs-include='*' --numeric-owner -xpf - -C '\(out)'")
        #expect(try snapshot(out) == (try snapshot(tree)))
    }

    static func umociLayers(_ layout: String, tag: String) throws -> [(blob: String, diffID: String)] {
        func blob(_ d: String) -> String { layout + "/blobs/sha256/" + d.replacingOccurrences(of: "sha256:", with: "") }
        func json(_ p: String) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: p))) as? [String: Any] ?? [:]
        }
        let index = try json(layout + "/index.json")
        let m = (index["manifests"] as? [[String: Any]] ?? []).first {
            ($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == tag
        }
        let manifest = try json(blob(m?["digest"] as? String ?? ""))
        let config = try json(blob((manifest["config"] as? [String: Any])?["digest"] as? String ?? ""))
        let diffIDs = (config["rootfs"] as? [String: Any])?["diff_ids"] as? [String] ?? []
        let layers = (manifest["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }
        return zip(layers, diffIDs).map { (blob($0), $1) }
    }

    @Test("umoci's layers apply to the tree umoci unpacks")
    func umociLayersApply() async throws {
        let dir = ScratchDir("interop")
        let l = dir.path + "/layout"
        try await shell("umoci init --layout \(l) && umoci new --image \(l):t && umoci unpack --image \(l):t \(dir.path)/b1")
        let r1 = dir.path + "/b1/rootfs"
        try await makeSampleTree(r1)
        try await shell("mkdir -p \(r1)/gone/sub \(r1)/opq && echo x > \(r1)/gone/sub/f && echo y > \(r1)/opq/old && umoci repack --image \(l):t \(dir.path)/b1")
        try await shell("umoci unpack --image \(l):t \(dir.path)/b2")
        let r2 = dir.path + "/b2/rootfs"
        try await shell("rm -rf \(r2)/gone \(r2)/etc/passwd \(r2)/opq/old && echo new > \(r2)/opq/new && umoci repack --image \(l):t \(dir.path)/b2")
        try await shell("umoci unpack --image \(l):t \(dir.path)/final")
        let layers = try Self.umociLayers(l, tag: "t")
        #expect(layers.count == 2)   // umoci new makes an empty image; one layer per repack
        let mine = dir.sub("mine")
        var whiteouts = 0
        for layer in layers {
            let r = try LayerApplier().apply(blob: layer.blob, to: mine)
            #expect(r.diffID.description == layer.diffID)
            whiteouts += r.whiteouts
        }
        #expect(whiteouts >= 2)
        let expected = try snapshot(dir.path + "/final/rootfs", mtimes: false)
        #expect(expected["gone"] == nil && expected["opq/new"] != nil)
        #expect(try snapshot(mine, mtimes: false) == expected)
    }
}
