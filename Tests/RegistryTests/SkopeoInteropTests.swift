import Foundation
import OCI
import Testing
import TestSupport
@testable import Registry

/// Interop with skopeo (containers/image): what Slipway pushes, skopeo pulls and verifies; what
/// skopeo pushes, Slipway pulls into a valid store.
@Suite(.requires(.skopeo)) struct SkopeoInteropTests {
    static let skopeo = Host.executable("skopeo") ?? "/usr/bin/skopeo"
    static let umoci = Host.executable("umoci") ?? "/usr/bin/umoci"

    @Test func skopeoPullsWhatSlipwayPushed() async throws {
        try await RegistryServer.with { registry in
            let a = try TestStore()
            let out = try TempDir("skopeo-out")
            defer { a.remove(); out.remove() }
            let ref = try ImageReference(parsing: "\(registry.host)/interop/pushed:1")
            let image = try await a.importImage(tag: ref.description)
            try await ImageTransfer().push(ref.description, from: a.store)

            let (status, output) = try await runCommand(Self.skopeo, [
                "--insecure-policy", "copy", "--src-tls-verify=false",
                "docker://\(registry.host)/interop/pushed:1", "oci:\(out.path)/layout:pushed",
            ])
            #expect(status == 0, "skopeo copy failed: \(output)")
            // skopeo kept our manifest byte for byte, and every blob it stored hashes to its name.
            let indexJSON = try String(contentsOfFile: out.path + "/layout/index.json", encoding: .utf8)
            #expect(indexJSON.contains(image.manifestDigest.description))
            let blobs = out.path + "/layout/blobs/sha256"
            let names = try FileManager.default.contentsOfDirectory(atPath: blobs)
            #expect(names.count >= 3)
            for name in names {
                let data = try Data(contentsOf: URL(fileURLWithPath: blobs + "/" + name))
                #expect(Digest.sha256(data).encoded == name)
            }
            for layer in image.layers { #expect(names.contains(layer.encoded)) }
        }
    }

    /// Makes an image with umoci (independent of Slipway's writer: one layer with
    /// /etc/greeting and a static busybox as /bin/cat, cmd `cat /etc/greeting`) and pushes it
    /// with skopeo to `registry`.
    static func pushUmociImage(to registry: RegistryServer, in work: TempDir, as name: String) async throws -> ImageReference {
        // (unpack + repack: umoci 0.4.7's `insert` writes a truncated tar.)
        let layout = work.path + "/layout"
        let bundle = work.path + "/bundle"
        for args in [["init", "--layout", layout], ["new", "--image", "\(layout):img"],
                     ["unpack", "--image", "\(layout):img", bundle]] {
            let (status, output) = try await runCommand(umoci, args)
            try #require(status == 0, "umoci \(args.joined(separator: " ")): \(output)")
        }
        try FileManager.default.createDirectory(atPath: bundle + "/rootfs/etc", withIntermediateDirectories: true)
        try "made by umoci\n".write(toFile: bundle + "/rootfs/etc/greeting", atomically: true, encoding: .utf8)
        // A static busybox as /bin/cat, so that the pulled image can also be run.
        try FileManager.default.createDirectory(atPath: bundle + "/rootfs/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: try #require(Host.executable("busybox")), toPath: bundle + "/rootfs/bin/cat")
        for args in [["repack", "--image", "\(layout):img", bundle],
                     ["config", "--image", "\(layout):img", "--config.cmd=/bin/cat", "--config.cmd=/etc/greeting"]] {
            let (status, output) = try await runCommand(umoci, args)
            try #require(status == 0, "umoci \(args.joined(separator: " ")): \(output)")
        }
        let (status, output) = try await runCommand(skopeo, [
            "--insecure-policy", "copy", "--dest-tls-verify=false",
            "oci:\(layout):img", "docker://\(registry.host)/interop/\(name)",
        ])
        try #require(status == 0, "skopeo copy failed: \(output)")
        return try ImageReference(parsing: "\(registry.host)/interop/\(name)")
    }

    @Test(.requires(.umoci, .busybox))
    func slipwayPullsWhatSkopeoPushed() async throws {
        try await RegistryServer.with { registry in
            let work = try TempDir("umoci")
            let b = try TestStore()
            defer { work.remove(); b.remove() }
            let ref = try await Self.pushUmociImage(to: registry, in: work, as: "skopeo:1")
            let pulled = try await ImageTransfer().pull(ref, into: b.store)
            let stored = try b.store.resolve(ref.description)
            #expect(stored.manifestDigest == pulled.manifestDigest)
            #expect(try b.store.config(of: stored).config?.cmd == ["/bin/cat", "/etc/greeting"])
            // The layers decompress to the diff IDs the config claims.
            for record in try b.store.layerRecords(of: stored) {
                #expect(try b.store.measureLayer(record.digest, mediaType: record.mediaType).diffID == record.diffID)
            }
            #expect(try b.store.fsck().isValid)
        }
    }

    /// `slipway run` over the layers of the image skopeo pushed prints the file umoci put in.
    @Test(.requires(.umoci, .busybox, .root, .runc, .slipwayBinary))
    func thePulledSkopeoImageRuns() async throws {
        try await RegistryServer.with { registry in
            let work = try TempDir("umoci-run")
            let b = try TestStore()
            defer { work.remove(); b.remove() }
            let ref = try await Self.pushUmociImage(to: registry, in: work, as: "skopeo:run")
            _ = try await ImageTransfer().pull(ref, into: b.store)
            let (code, out) = try await runCommand(Host.slipwayBinary, ["run", "--root", b.store.root, "--rm", ref.description])
            #expect(code == 0, "\(out)")
            #expect(out.contains("made by umoci"), "\(out)")
        }
    }
}
