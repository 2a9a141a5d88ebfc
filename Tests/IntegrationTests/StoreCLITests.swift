import Foundation
import Testing
import TestSupport

/// Drives the built `slipway` through the store commands, as a user would.
@Suite(.requires(.slipwayBinary, .busybox)) struct StoreCLITests {
    struct ImageRow: Decodable { var ID: String; var Repository: String; var Tag: String; var SizeBytes: Int64 }
    struct HistoryRow: Decodable { var CreatedBy: String; var Comment: String; var SizeBytes: Int64 }
    struct Inspected: Decodable {
        var Id: String
        var RepoTags: [String]
        var RepoDigests: [String]
        var Architecture: String
        var Os: String
        var Created: String?
        var Size: Int64
        struct RootFS: Decodable { var `Type`: String; var Layers: [String] }
        var RootFS: RootFS
    }

    @Test func importListTagInspectHistoryRemove() async throws {
        let bin = Fixtures.slipwayBinary
        let dir = try Fixtures.scratch("cli")
        defer { Fixtures.removeScratch(dir) }
        let rootfs = try await Fixtures.busyboxRootfs(in: dir)
        let root = dir + "/store"
        try await Fixtures.tarball(of: rootfs, to: dir + "/rootfs.tar.gz")

        let imp = try await Fixtures.slipway(bin, root: root, ["import", dir + "/rootfs.tar.gz", "bb:1"])
        #expect(imp.status == 0, "\(imp.stderr)")
        let id = imp.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.hasPrefix("sha256:") && id.count == 71)

        let table = try await Fixtures.slipway(bin, root: root, ["images"])
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") == "REPOSITORY TAG IMAGE ID CREATED SIZE")
        #expect(lines.count == 2)
        #expect(lines.last?.hasPrefix("bb ") == true)
        #expect(lines.last?.contains(String(id.dropFirst(7).prefix(12))) == true)

        #expect(try await Fixtures.slipway(bin, root: root, ["tag", "bb:1", "ghcr.io/acme/bb:2"]).status == 0)
        let json = try await Fixtures.slipway(bin, root: root, ["images", "--format", "json"])
        let rows = try json.stdout.split(separator: "\n").map { try JSONDecoder().decode(ImageRow.self, from: Data($0.utf8)) }
        #expect(Set(rows.map { "\($0.Repository):\($0.Tag)" }) == ["bb:1", "ghcr.io/acme/bb:2"])
        #expect(rows.allSatisfy { $0.ID == String(id.dropFirst(7).prefix(12)) && $0.SizeBytes > 1_000_000 })

        let ins = try await Fixtures.slipway(bin, root: root, ["inspect", "ghcr.io/acme/bb:2"])
        #expect(ins.status == 0, "\(ins.stderr)")
        let info = try #require(try JSONDecoder().decode([Inspected].self, from: Data(ins.stdout.utf8)).first)
        #expect(info.Id == id)
        #expect(info.RepoTags == ["bb:1", "ghcr.io/acme/bb:2"])
        #expect(info.RepoDigests.isEmpty, "local tags have no registry digest: \(info.RepoDigests)")
        #expect(info.Os == "linux" && !info.Architecture.isEmpty && info.Created != nil)
        #expect(info.RootFS.Type == "layers" && info.RootFS.Layers.count == 1)
        #expect(info.Size > 1_000_000)

        let hist = try await Fixtures.slipway(bin, root: root, ["history", "bb:1"])
        #expect(hist.stdout.hasPrefix("IMAGE"))
        #expect(hist.stdout.contains("Imported from rootfs.tar.gz"))
        let hjson = try await Fixtures.slipway(bin, root: root, ["history", "--format", "json", "--no-trunc", "bb:1"])
        let entries = try hjson.stdout.split(separator: "\n").map { try JSONDecoder().decode(HistoryRow.self, from: Data($0.utf8)) }
        #expect(entries.count == 1 && entries[0].SizeBytes == info.Size)

        // rmi of one name only untags; of the last name deletes and frees the blobs.
        let r1 = try await Fixtures.slipway(bin, root: root, ["rmi", "bb:1"])
        #expect(r1.stdout.contains("Untagged: bb:1") && !r1.stdout.contains("Deleted"))
        let r2 = try await Fixtures.slipway(bin, root: root, ["rmi", "ghcr.io/acme/bb:2"])
        #expect(r2.stdout.contains("Deleted: \(id)"), "\(r2.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/blobs/sha256").isEmpty)
        #expect(try await Fixtures.slipway(bin, root: root, ["images", "-q"]).stdout.isEmpty)
    }

    @Test func rmiRefusesAnIDWithSeveralNamesUnlessForced() async throws {
        let bin = Fixtures.slipwayBinary
        let dir = try Fixtures.scratch("rmi")
        defer { Fixtures.removeScratch(dir) }
        let rootfs = try await Fixtures.busyboxRootfs(in: dir)
        let root = dir + "/store"
        try await Fixtures.tarball(of: rootfs, to: dir + "/rootfs.tar")
        let id = try await Fixtures.slipway(bin, root: root, ["import", dir + "/rootfs.tar", "a:1"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try await Fixtures.slipway(bin, root: root, ["tag", "a:1", "b:1"])
        let refused = try await Fixtures.slipway(bin, root: root, ["rmi", String(id.dropFirst(7).prefix(12))])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("must be forced"))
        let forced = try await Fixtures.slipway(bin, root: root, ["rmi", "-f", id])
        #expect(forced.status == 0)
        #expect(forced.stdout.contains("Untagged: a:1") && forced.stdout.contains("Untagged: b:1"))
    }

    @Test func errorsAreOneClearLine() async throws {
        let bin = Fixtures.slipwayBinary
        let dir = try Fixtures.scratch("errors")
        defer { Fixtures.removeScratch(dir) }
        let root = dir + "/store"
        try Data("not a tar at all, just some text that is long enough".utf8).write(to: URL(fileURLWithPath: dir + "/junk.tar"))
        let cases: [([String], String)] = [
            (["inspect", "nope"], "error: No such object: nope"),
            (["import", dir + "/missing.tar", "x"], "missing.tar"),
            (["import", dir + "/junk.tar", "x"], "junk.tar"),
            (["load", "-i", dir + "/junk.tar"], "junk.tar"),
            (["tag", "nope", "x"], "no such image"),
            (["history", "Bad:Ref"], "must be lowercase"),
            (["save", "-o", dir + "/o.tar", "--format", "zip", "x"], "--format must be oci or docker"),
        ]
        for (args, message) in cases {
            let r = try await Fixtures.slipway(bin, root: root, args)
            #expect(r.status == 1, "\(args): status \(r.status)")
            #expect(r.stderr.hasPrefix("error: ") && r.stderr.contains(message), "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
        }
        let fsck = try await Fixtures.slipway(bin, root: root, ["fsck"])
        #expect(fsck.status == 0 && fsck.stdout.contains("0 garbage"), "\(fsck.stdout)")
    }

    @Test func pruneRemovesDanglingImages() async throws {
        let bin = Fixtures.slipwayBinary
        let dir = try Fixtures.scratch("prune")
        defer { Fixtures.removeScratch(dir) }
        let rootfs = try await Fixtures.busyboxRootfs(in: dir)
        let root = dir + "/store"
        try await Fixtures.tarball(of: rootfs, to: dir + "/one.tar")
        try await Fixtures.sh("echo two > '\(rootfs)/etc/two'")
        try await Fixtures.tarball(of: rootfs, to: dir + "/two.tar")
        try await Fixtures.slipway(bin, root: root, ["import", dir + "/one.tar", "app:1"])
        try await Fixtures.slipway(bin, root: root, ["import", dir + "/two.tar", "app:1"])
        let listed = try await Fixtures.slipway(bin, root: root, ["images"]).stdout
        #expect(listed.contains("<none>"))
        let p = try await Fixtures.slipway(bin, root: root, ["prune", "-f"])
        #expect(p.status == 0 && p.stdout.contains("Deleted image: sha256:"), "\(p.stdout)")
        #expect(!(try await Fixtures.slipway(bin, root: root, ["images"]).stdout.contains("<none>")))
        let fsck = try await Fixtures.slipway(bin, root: root, ["fsck"])
        #expect(fsck.status == 0 && fsck.stdout.contains("store is valid") && fsck.stdout.contains("0 garbage"), "\(fsck.stdout)")
    }
}
