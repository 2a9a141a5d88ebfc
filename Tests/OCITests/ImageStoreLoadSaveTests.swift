import Foundation
import Testing
@testable import OCI
import TestSupport

@Suite struct ImageStoreLoadSaveTests {
    @Test(.requires(.busybox), arguments: [ManifestFormat.oci, .docker])
    func importSaveLoadKeepsDigests(format: ManifestFormat) async throws {
        let fx = try BusyboxRootfs()
        let a = try TempStore()
        let imported = try await ImageArchive.importRootfs(from: fx.tar, into: a.store, tags: [try ImageReference(parsing: "bb:1")])
        let archive = fx.dir + "/saved-\(format).tar"
        try await ImageArchive.save([SaveRequest(image: imported, names: imported.tags)], from: a.store, format: format, to: archive)

        let b = try TempStore()
        let loaded = try await ImageArchive.load(archive, into: b.store)
        #expect(loaded.count == 1)
        let img = try #require(loaded.first?.image)
        #expect(img.tags.map(\.familiar) == ["bb:1"])
        #expect(img.id == imported.id)
        #expect(img.manifestDigest == imported.manifestDigest)
        #expect(img.layers == imported.layers)
        #expect(try b.store.fsck().isValid)
        // Loading again changes nothing and writes nothing new.
        let again = try await ImageArchive.load(archive, into: b.store)
        #expect(again.first?.image.manifestDigest == imported.manifestDigest)
        #expect(try b.store.images().count == 1)
    }

    @Test(.requires(.busybox))
    func importAcceptsGzipAndZstdWithTheSameDiffID() async throws {
        let fx = try BusyboxRootfs()
        let t = try TempStore()
        let plain = try await ImageArchive.importRootfs(from: fx.tar, into: t.store, tags: [], compression: .zstd)
        let gz = fx.dir + "/rootfs.tar.gz"
        let sink = try FileSink(path: gz)
        let compressor = try LayerCompression.gzip.compressor(into: sink)
        try FileSource(path: fx.tar).copy(to: compressor)
        try compressor.finish()
        let fromGzip = try await ImageArchive.importRootfs(from: gz, into: t.store, tags: [])
        let c1 = try t.store.config(of: plain), c2 = try t.store.config(of: fromGzip)
        #expect(c1.rootfs.diffIDs == c2.rootfs.diffIDs)
        #expect(try t.store.layerRecords(of: plain).first?.mediaType == MediaType.ociLayerZstd)
        #expect(try t.store.layerRecords(of: fromGzip).first?.mediaType == MediaType.ociLayerGzip)
    }

    @Test(.requires(.busybox))
    func unpackedLayerIsExtractedOnceAndCollectedWithItsLayer() async throws {
        let fx = try BusyboxRootfs()
        let t = try TempStore()
        let img = try await ImageArchive.importRootfs(from: fx.tar, into: t.store, tags: [try ImageReference(parsing: "bb:1")])
        let diffID = try t.store.config(of: img).rootfs.diffIDs[0]
        let path = try t.store.unpackedLayerPath(diffID: diffID)
        #expect(path == t.dir + "/snapshots/" + diffID.encoded)
        #expect(FileManager.default.isExecutableFile(atPath: path + "/bin/busybox"))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: path + "/bin/sh") == "busybox")
        #expect(try t.store.unpackedLayerPath(diffID: diffID) == path)
        #expect(throws: StoreError.self) { try t.store.unpackedLayerPath(diffID: Digest.sha256("none")) }
        try t.store.removeImage(img.manifestDigest)
        // While this process holds its lease the layer (and its snapshot) stays.
        #expect(try t.store.collectGarbage().removedSnapshots == 0)
        try t.store.releaseLeases()
        let report = try t.store.collectGarbage()
        #expect(report.removedSnapshots == 1)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    // MARK: malformed input: a clear error and nothing half-written

    func expectCleanFailure(_ t: TempStore, _ archive: String, mentions: String, sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            _ = try await ImageArchive.load(archive, into: t.store)
            Issue.record("load of a malformed archive succeeded", sourceLocation: sourceLocation)
        } catch {
            #expect("\(error)".contains(mentions), "\(error)", sourceLocation: sourceLocation)
        }
        #expect((try? t.store.images().isEmpty) == true, sourceLocation: sourceLocation)
        let blobs = (try? FileManager.default.contentsOfDirectory(atPath: t.dir + "/blobs/sha256")) ?? ["?"]
        #expect(blobs.isEmpty, "left blobs: \(blobs)", sourceLocation: sourceLocation)
        #expect((try? t.store.fsck())?.garbage.isEmpty == true, sourceLocation: sourceLocation)
    }

    /// A valid OCI archive of the busybox image, as (path, bytes) entries to tamper with.
    func ociEntries(_ fx: BusyboxRootfs) async throws -> [(String, [UInt8])] {
        let t = try TempStore()
        let img = try await ImageArchive.importRootfs(from: fx.tar, into: t.store, tags: [try ImageReference(parsing: "bb:1")])
        let path = fx.dir + "/good.tar"
        try await ImageArchive.save([SaveRequest(image: img, names: img.tags)], from: t.store, format: .oci, to: path)
        return try readTestArchive(path)
    }

    @Test(.requires(.busybox))
    func rejectsWrongDigest() async throws {
        let fx = try BusyboxRootfs()
        var entries = try await ociEntries(fx)
        let i = try #require(entries.firstIndex { $0.0.hasPrefix("blobs/") && $0.1.count > 10_000 })
        entries[i].1[5000] ^= 0xff
        let bad = fx.dir + "/bad.tar"
        try writeTestArchive(bad, entries)
        await expectCleanFailure(try TempStore(), bad, mentions: "digest")
    }

    @Test(.requires(.busybox))
    func rejectsBadJSONAndUnknownMediaType() async throws {
        let fx = try BusyboxRootfs()
        var entries = try await ociEntries(fx)
        let idx = try #require(entries.firstIndex { $0.0 == "index.json" })
        let good = entries[idx].1
        entries[idx].1 = Array(good.prefix(good.count / 2))
        let bad = fx.dir + "/badjson.tar"
        try writeTestArchive(bad, entries)
        await expectCleanFailure(try TempStore(), bad, mentions: "index.json is not valid JSON")

        // A manifest with an unknown layer media type (and the index pointing at it).
        entries[idx].1 = good
        let index = try ImageIndex.decode(good)
        let mIdx = try #require(entries.firstIndex { $0.0 == "blobs/sha256/" + index.manifests[0].digest.encoded })
        var manifest = try ImageManifest.decode(entries[mIdx].1)
        manifest.layers[0].mediaType = "application/x-unknown"
        let (bytes, d) = try CanonicalJSON.blob(manifest, mediaType: MediaType.ociManifest)
        entries[mIdx] = ("blobs/sha256/" + d.digest.encoded, bytes)
        entries[idx].1 = try CanonicalJSON.encode(ImageIndex(manifests: [d]))
        let unknown = fx.dir + "/unknown.tar"
        try writeTestArchive(unknown, entries)
        await expectCleanFailure(try TempStore(), unknown, mentions: "unknown media type 'application/x-unknown'")
    }

    @Test(.requires(.busybox))
    func rejectsTruncatedArchivesAndTarballs() async throws {
        let fx = try BusyboxRootfs()
        let entries = try await ociEntries(fx)
        let good = fx.dir + "/good2.tar"
        try writeTestArchive(good, entries)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let cut = fx.dir + "/cut.tar"
        try bytes.prefix(bytes.count * 2 / 3).write(to: URL(fileURLWithPath: cut))
        await expectCleanFailure(try TempStore(), cut, mentions: "truncated")

        let rootfs = try Data(contentsOf: URL(fileURLWithPath: fx.tar))
        let cutRootfs = fx.dir + "/cut-rootfs.tar"
        try rootfs.prefix(rootfs.count / 2).write(to: URL(fileURLWithPath: cutRootfs))
        let t = try TempStore()
        do {
            _ = try await ImageArchive.importRootfs(from: cutRootfs, into: t.store, tags: [try ImageReference(parsing: "x:1")])
            Issue.record("import of a truncated tarball succeeded")
        } catch {
            #expect("\(error)".contains("truncated"), "\(error)")
        }
        #expect(try t.store.images().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.dir + "/blobs/sha256").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.dir + "/tmp").isEmpty)
    }

    @Test(.requires(.busybox))
    func rejectsLayerWhoseDiffIDDisagreesWithConfig() async throws {
        let fx = try BusyboxRootfs()
        var entries = try await ociEntries(fx)
        let idx = try #require(entries.firstIndex { $0.0 == "index.json" })
        let index = try ImageIndex.decode(entries[idx].1)
        let mIdx = try #require(entries.firstIndex { $0.0 == "blobs/sha256/" + index.manifests[0].digest.encoded })
        var manifest = try ImageManifest.decode(entries[mIdx].1)
        let cIdx = try #require(entries.firstIndex { $0.0 == "blobs/sha256/" + manifest.config.digest.encoded })
        var config = try ImageConfig.decode(entries[cIdx].1)
        config.rootfs.diffIDs = [Digest.sha256("something else")]
        let (cb, cd) = try CanonicalJSON.blob(config, mediaType: MediaType.ociConfig)
        entries[cIdx] = ("blobs/sha256/" + cd.digest.encoded, cb)
        manifest.config = cd
        let (mb, md) = try CanonicalJSON.blob(manifest, mediaType: MediaType.ociManifest)
        entries[mIdx] = ("blobs/sha256/" + md.digest.encoded, mb)
        entries[idx].1 = try CanonicalJSON.encode(ImageIndex(manifests: [md]))
        let bad = fx.dir + "/diffid.tar"
        try writeTestArchive(bad, entries)
        await expectCleanFailure(try TempStore(), bad, mentions: "diff_id")
    }

    @Test func rejectsNonArchives() async throws {
        let t = try TempStore()
        let p = t.dir + "/tmp/not-an-archive.tar"
        try writeTestArchive(p, [("hello.txt", Array("hi".utf8))])
        await #expect(throws: StoreError.self) { try await ImageArchive.load(p, into: t.store) }
        await #expect(throws: StoreError.self) { try await ImageArchive.load(t.dir + "/missing.tar", into: t.store) }
    }

    @Test(.requires(.busybox))
    func multiPlatformIndexLoadsEveryPlatformAndTagsTheHostOne() async throws {
        let fx = try BusyboxRootfs()
        let a = try TempStore()
        let other = Platform.host.architecture == "arm64" ? Platform(architecture: "amd64") : Platform(architecture: "arm64")
        let host = try await ImageArchive.importRootfs(from: fx.tar, into: a.store, tags: [], platform: .host)
        let foreign = try await ImageArchive.importRootfs(from: fx.tar, into: a.store, tags: [], platform: other)
        var files: [(String, [UInt8])] = [("oci-layout", Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))]
        var seen = Set<Digest>()
        var children: [Descriptor] = []
        for (img, platform) in [(foreign, other), (host, Platform.host)] {
            children.append(Descriptor(mediaType: MediaType.ociManifest, digest: img.manifestDigest, size: img.manifestSize, platform: platform))
            for d in [img.manifestDigest, img.configDigest] + img.layers where seen.insert(d).inserted {
                files.append(("blobs/sha256/" + d.encoded, try a.store.content.readBlob(d)))
            }
        }
        let (nestedBytes, nested) = try CanonicalJSON.blob(ImageIndex(manifests: children), mediaType: MediaType.ociIndex)
        files.append(("blobs/sha256/" + nested.digest.encoded, nestedBytes))
        var top = nested
        top.annotations = [AnnotationKey.containerdImageName: "docker.io/library/multi:1"]
        files.append(("index.json", try CanonicalJSON.encode(ImageIndex(manifests: [top]))))
        let archive = fx.dir + "/multi.tar"
        try writeTestArchive(archive, files)

        let b = try TempStore()
        let loaded = try await ImageArchive.load(archive, into: b.store)
        #expect(Set(loaded.map(\.image.manifestDigest)) == [host.manifestDigest, foreign.manifestDigest])
        #expect(try b.store.resolve("multi:1").manifestDigest == host.manifestDigest)
        #expect(try b.store.resolve("multi:1").platform.architecture == Platform.host.architecture)
    }

    // MARK: dive's reference archives

    @Test(.requires(.conformance("dive")))
    func diveArchivesLoadAndOCIVariantsGiveTheSameTree() async throws {
        let dir = try #require(Host.conformance("dive"))
        let t = try TempStore()
        let docker = try await ImageArchive.load(dir + "/test-docker-image.tar", into: t.store)
        #expect(docker.first?.names.map(\.familiar) == ["dive-test:latest"])
        let dockerImage = try #require(docker.first?.image)
        #expect(dockerImage.layers.count == 14)
        #expect(dockerImage.id.encoded == "75ae28b8ebf89b203319069ddcbecdf5c3838503bbebc0d0d85e4b8589c5de3a")

        var trees: [String: [String]] = [:]
        for variant in ["gzip", "zstd", "uncompressed"] {
            let loaded = try await ImageArchive.load(dir + "/test-oci-\(variant)-image.tar", into: t.store)
            let image = try #require(loaded.first?.image)
            #expect(image.id.encoded == "3eaccc100f866490f00ae82727b459a737af031dcf44c791d8aa714a70f24959")
            let layer = try #require(try t.store.layerRecords(of: image).first)
            #expect(MediaType.layerCompression(layer.mediaType)?.rawValue == (variant == "uncompressed" ? "none" : variant))
            // The tree: every entry's path, type, mode, owner and content hash, after extraction.
            let root = try t.store.unpackedLayerPath(diffID: layer.diffID)
            trees[variant] = try Self.describeTree(root)
        }
        #expect(trees["gzip"] == trees["zstd"])
        #expect(trees["gzip"] == trees["uncompressed"])
        #expect(trees["gzip"]?.contains { $0.hasPrefix("README.md ") } == true)
        #expect(try t.store.fsck().isValid)
    }

    static func describeTree(_ root: String, _ rel: String = "") throws -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        for name in try fm.contentsOfDirectory(atPath: root + "/" + rel).sorted() {
            let p = rel.isEmpty ? name : rel + "/" + name
            let a = try fm.attributesOfItem(atPath: root + "/" + p)
            let type = a[.type] as? FileAttributeType
            var line = "\(p) \(type?.rawValue ?? "?") \(a[.posixPermissions] ?? 0) \(a[.ownerAccountID] ?? 0):\(a[.groupOwnerAccountID] ?? 0)"
            if type == .typeRegular {
                line += " " + Digest.sha256(try Data(contentsOf: URL(fileURLWithPath: root + "/" + p))).short
            }
            out.append(line)
            if type == .typeDirectory { out += try describeTree(root, p) }
        }
        return out
    }
}
