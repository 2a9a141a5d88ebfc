import Foundation
import Testing
import TestSupport

/// Slipway's archives against the real tools: skopeo reads what Slipway saves, and images
/// written by umoci and skopeo load into Slipway with identical layer digests.
@Suite(.requires(.slipwayBinary)) struct StoreInteropTests {
    struct SkopeoInspect: Decodable { var Digest: String; var Layers: [String] }
    struct Inspected: Decodable {
        var Id: String
        var ManifestDigest: String
        struct Layer: Decodable { var Digest: String; var DiffID: String }
        var Layers: [Layer]
    }

    /// A store with the busybox image imported as bb:1.
    func prepared(_ dir: String, _ bin: String) async throws -> (root: String, info: Inspected) {
        let rootfs = try await Fixtures.busyboxRootfs(in: dir)
        try await Fixtures.tarball(of: rootfs, to: dir + "/rootfs.tar")
        let root = dir + "/store"
        let r = try await Fixtures.slipway(bin, root: root, ["import", dir + "/rootfs.tar", "bb:1"])
        guard r.status == 0 else { throw FixtureError(r.stderr) }
        return (root, try await inspect(bin, root, "bb:1"))
    }

    func inspect(_ bin: String, _ root: String, _ name: String) async throws -> Inspected {
        let r = try await Fixtures.slipway(bin, root: root, ["inspect", name])
        guard r.status == 0, let first = try JSONDecoder().decode([Inspected].self, from: Data(r.stdout.utf8)).first else {
            throw FixtureError("inspect \(name): \(r.stderr)")
        }
        return first
    }

    @Test(.requires(.skopeo, .busybox))
    func skopeoReadsSavedArchives() async throws {
        let bin = Fixtures.slipwayBinary
        let dir = try Fixtures.scratch("skopeo")
        defer { Fixtures.removeScratch(dir) }
        let (root, info) = try await prepared(dir, bin)
        #expect(try await Fixtures.slipway(bin, root: root, ["save", "-o", dir + "/oci.tar", "bb:1"]).status == 0)
        #expect(try await Fixtures.slipway(bin, root: root, ["save", "--format", "docker", "-o", dir + "/docker.tar", "bb:1"]).status == 0)

        let oci = try JSONDecoder().decode(SkopeoInspect.self, from: Data(try await Fixtures.sh("skopeo inspect oci-archive:'\(dir)/oci.tar'").utf8))
        #expect(oci.Digest == info.ManifestDigest)
        #expect(oci.Layers == info.Layers.map(\.Digest))
        let docker = try JSONDecoder().decode(SkopeoInspect.self, from: Data(try await Fixtures.sh("skopeo inspect docker-archive:'\(dir)/docker.tar'").utf8))
        #expect(docker.Layers == info.Layers.map(\.DiffID))
        let config = try await Fixtures.sh("skopeo inspect --config docker-archive:'\(dir)/docker.tar'")
        #expect(config.contains("\"diff_ids\""))

        // And both load back into a fresh store as the same image.
        for file in ["oci.tar", "docker.tar"] {
            let fresh = dir + "/fresh-" + file
            let l = try await Fixtures.slipway(bin, root: fresh, ["load", "-i", dir + "/" + file])
            #expect(l.status == 0 && l.stdout.contains("Loaded image: bb:1"), "\(l.stderr)")
            let back = try await inspect(bin, fresh, "bb:1")
            #expect(back.Id == info.Id && back.ManifestDigest == info.ManifestDigest)
            #expect(back.Layers.map(\.Digest) == info.Layers.map(\.Digest))
        }
    }

    @Test(.requires(.skopeo, .busybox))
    func skopeoCopiedArchivesLoadWithTheSameLayers() async throws {
        let bin = Fixtures.slipwayBinary
        let dir = try Fixtures.scratch("skopeo-copy")
        defer { Fixtures.removeScratch(dir) }
        let (root, _) = try await prepared(dir, bin)
        try await Fixtures.slipway(bin, root: root, ["save", "--format", "docker", "-o", dir + "/docker.tar", "bb:1"])
        // skopeo converts the docker-archive into an OCI archive of its own making.
        try await Fixtures.sh("skopeo copy -q docker-archive:'\(dir)/docker.tar' oci-archive:'\(dir)/by-skopeo.tar':docker.io/library/copied:7")
        let theirs = try JSONDecoder().decode(SkopeoInspect.self, from: Data(try await Fixtures.sh("skopeo inspect oci-archive:'\(dir)/by-skopeo.tar'").utf8))
        let fresh = dir + "/fresh"
        let l = try await Fixtures.slipway(bin, root: fresh, ["load", "-i", dir + "/by-skopeo.tar"])
        #expect(l.status == 0 && l.stdout.contains("Loaded image: copied:7"), "\(l.stdout) \(l.stderr)")
        let ours = try await inspect(bin, fresh, "copied:7")
        #expect(ours.ManifestDigest == theirs.Digest)
        #expect(ours.Layers.map(\.Digest) == theirs.Layers)
    }

    @Test(.requires(.umoci, .busybox))
    func umociImageLoadsWithTheSameLayers() async throws {
        let bin = Fixtures.slipwayBinary
        let dir = try Fixtures.scratch("umoci")
        defer { Fixtures.removeScratch(dir) }
        let rootfs = try await Fixtures.busyboxRootfs(in: dir)
        let layout = dir + "/layout"
        try await Fixtures.sh("""
            set -e
            umoci init --layout '\(layout)'
            umoci new --image '\(layout):base'
            umoci unpack --image '\(layout):base' '\(dir)/bundle'
            cp -a '\(rootfs)/.' '\(dir)/bundle/rootfs/'
            umoci repack --image '\(layout):base' '\(dir)/bundle'
            umoci config --image '\(layout):base' --config.cmd /bin/sh --config.env A=1
            tar -C '\(layout)' -cf '\(dir)/umoci.tar' .
            """)
        // What umoci wrote: its manifest's layer digests.
        struct Index: Decodable { struct M: Decodable { var digest: String }; var manifests: [M] }
        struct Manifest: Decodable { struct L: Decodable { var digest: String }; var layers: [L] }
        let index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: URL(fileURLWithPath: layout + "/index.json")))
        let manifestDigest = try #require(index.manifests.first?.digest)
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: layout + "/blobs/sha256/" + manifestDigest.dropFirst(7))))

        let root = dir + "/store"
        let l = try await Fixtures.slipway(bin, root: root, ["load", "-i", dir + "/umoci.tar", "--tag", "from-umoci:1"])
        #expect(l.status == 0, "\(l.stderr)")
        let ours = try await inspect(bin, root, "from-umoci:1")
        #expect(ours.ManifestDigest == manifestDigest)
        #expect(ours.Layers.map(\.Digest) == manifest.layers.map(\.digest))
        let ins = try await Fixtures.slipway(bin, root: root, ["inspect", "from-umoci:1"]).stdout
        #expect(ins.contains("A=1"))
    }

    @Test(.requires(.diveArchives))
    func diveReferenceArchivesLoad() async throws {
        let bin = Fixtures.slipwayBinary
        let dive = try Fixtures.conformance("dive")
        let dir = try Fixtures.scratch("dive")
        defer { Fixtures.removeScratch(dir) }
        let root = dir + "/store"
        for f in ["test-docker-image.tar", "test-oci-gzip-image.tar", "test-oci-zstd-image.tar", "test-oci-uncompressed-image.tar"] {
            let r = try await Fixtures.slipway(bin, root: root, ["load", "-i", dive + "/" + f])
            #expect(r.status == 0, "\(f): \(r.stderr)")
        }
        let hist = try await Fixtures.slipway(bin, root: root, ["history", "dive-test:latest"])
        #expect(hist.stdout.split(separator: "\n").count > 14)
        #expect(try await Fixtures.slipway(bin, root: root, ["fsck"]).status == 0)
    }
}
