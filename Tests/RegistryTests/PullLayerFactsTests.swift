import Foundation
import OCI
import Testing
import TestSupport
@testable import Registry

/// A pull decompresses every layer: the store learns each layer's real uncompressed size (what
/// `images` and `history` print, as docker does) and refuses a config whose diff_ids lie.
@Suite struct PullLayerFactsTests {
    @Test func pulledLayersCarryTheirUncompressedSizeAndHistoryMatchesTheSource() async throws {
        try await RegistryServer.with { registry in
            let a = try TestStore(), b = try TestStore()
            defer { a.remove(); b.remove() }
            let ref = try ImageReference(parsing: "\(registry.host)/facts/app:1")
            let image = try await a.importImage(tag: ref.description, files: 2, fileSize: 300_000)
            let transfer = ImageTransfer()
            try await transfer.push(ref.description, from: a.store)

            let pulled = try await transfer.pull(ref, into: b.store)
            let records = try b.store.layerRecords(of: pulled.image)
            #expect(records.count == image.layers.count)
            for record in records {
                // The uncompressed tar, measured independently of Slipway.
                let (status, out) = try await runCommand("/bin/sh", ["-c", "gzip -dc < '\(b.store.content.blobPath(record.digest))' | wc -c"])
                #expect(status == 0)
                let tarSize = try #require(Int64(out.trimmingCharacters(in: .whitespacesAndNewlines)))
                #expect(record.uncompressedSize == tarSize)
                #expect(record.uncompressedSize != record.size)
                let (sumStatus, sum) = try await runCommand("/bin/sh", ["-c", "gzip -dc < '\(b.store.content.blobPath(record.digest))' | sha256sum"])
                #expect(sumStatus == 0)
                #expect(sum.hasPrefix(record.diffID.encoded))
            }
            let sourceRecords = try a.store.layerRecords(of: image)
            #expect(records.map(\.uncompressedSize) == sourceRecords.map(\.uncompressedSize))
            #expect(try b.store.resolve(ref.description).size == image.size)
            #expect(try b.store.fsck().isValid)
        }
    }

    /// `slipway history` prints the same sizes for the pulled image as for the source.
    @Test(.requires(.slipwayBinary))
    func historyOfThePulledImageMatchesTheSource() async throws {
        let bin = Host.slipwayBinary
        try await RegistryServer.with { registry in
            let a = try TestStore(), b = try TestStore()
            defer { a.remove(); b.remove() }
            let ref = try ImageReference(parsing: "\(registry.host)/facts/history:1")
            _ = try await a.importImage(tag: ref.description, files: 2, fileSize: 300_000)
            let transfer = ImageTransfer()
            try await transfer.push(ref.description, from: a.store)
            let pulled = try await transfer.pull(ref, into: b.store)
            let records = try b.store.layerRecords(of: pulled.image)
            let source = try await runCommand(bin, ["history", "--root", a.dir.path, "--format", "json", ref.description])
            let copy = try await runCommand(bin, ["history", "--root", b.dir.path, "--format", "json", ref.description])
            #expect(source.0 == 0 && copy.0 == 0)
            let sizes = { (out: String) -> [Int64] in
                out.split(separator: "\n").compactMap { line in
                    ((try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["SizeBytes"] as? NSNumber)?.int64Value
                }
            }
            #expect(!sizes(source.1).isEmpty)
            #expect(sizes(copy.1) == sizes(source.1))
            #expect(sizes(copy.1).contains(try #require(records.first?.uncompressedSize)))
        }
    }

    @Test func aConfigWhoseDiffIDsLieIsRefusedAndNothingIsRecorded() async throws {
        try await RegistryServer.with { registry in
            let a = try TestStore(), b = try TestStore()
            defer { a.remove(); b.remove() }
            let honest = try ImageReference(parsing: "\(registry.host)/liar/app:honest")
            let image = try await a.importImage(tag: honest.description, files: 1)
            try await ImageTransfer().push(honest.description, from: a.store)
            let layer = try #require(try a.store.layerRecords(of: image).first)

            // Same layer blob, but the config names another diff_id.
            let client = try RegistryClient(registry: registry.host)
            let wrong = Digest.sha256(Data("not the layer".utf8))
            let config = Data(#"{"architecture":"\#(image.platform.architecture)","os":"linux","rootfs":{"type":"layers","diff_ids":["\#(wrong)"]}}"#.utf8)
            try await client.pushBlob(repository: "liar/app", data: config)
            let manifest = makeManifest(config: Digest.sha256(config), configSize: config.count,
                                        layers: [(layer.digest, Int(layer.size))])
            try await client.putManifest(repository: "liar/app", reference: "lie", data: manifest, mediaType: MediaType.ociManifest)

            let lie = try ImageReference(parsing: "\(registry.host)/liar/app:lie")
            do {
                _ = try await ImageTransfer().pull(lie, into: b.store)
                Issue.record("an image whose config lies about its diff_ids was pulled")
            } catch let error as StoreError {
                guard case .digestMismatch(let expected, let actual, _) = error else { Issue.record("wrong error \(error)"); return }
                #expect(expected == wrong && actual == layer.diffID)
                #expect(error.description.contains("diff_id"))
            }
            #expect(throws: (any Error).self) { try b.store.resolve(lie.description) }
            #expect(try b.store.layerRecord(digest: layer.digest) == nil)
            #expect(try b.store.fsck().isValid)

            // The honest image still pulls into the same store afterwards.
            let pulled = try await ImageTransfer().pull(honest, into: b.store)
            #expect(try b.store.layerRecords(of: pulled.image).first?.uncompressedSize == layer.uncompressedSize)
            #expect(try b.store.fsck().isValid)
        }
    }
}
