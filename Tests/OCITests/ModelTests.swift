import Foundation
import Testing
@testable import OCI

@Suite struct ModelTests {
    @Test func canonicalJSONSortsKeysAndKeepsSlashes() throws {
        var c = ImageConfig(platform: Platform(architecture: "amd64"), created: "2024-01-01T00:00:00Z",
                            config: ContainerConfig(env: ["PATH=/usr/bin"], cmd: ["/bin/sh"]), diffIDs: [])
        c.config?.exposedPorts = ["80/tcp": EmptyObject()]
        c.config?.labels = ["b": "2", "a": "1"]
        let s = String(decoding: try CanonicalJSON.encode(c), as: UTF8.self)
        #expect(s.contains(#""Env":["PATH=/usr/bin"]"#))
        #expect(s.contains(#""ExposedPorts":{"80/tcp":{}}"#))
        #expect(s.contains(#""Labels":{"a":"1","b":"2"}"#))
        #expect(s.hasPrefix(#"{"architecture":"amd64","config":{"#))
        #expect(!s.contains("\\/"))
        // Stable: encoding a decoded copy gives the same bytes.
        let again = try CanonicalJSON.encode(try ImageConfig.decode(Array(s.utf8)))
        #expect(String(decoding: again, as: UTF8.self) == s)
    }

    @Test func decodesDockerManifestAndConvertsToOCI() throws {
        let hex = String(repeating: "1", count: 64)
        let json = """
        {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
         "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7,"digest":"sha256:\(hex)"},
         "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":9,"digest":"sha256:\(hex)"}]}
        """
        let m = try ImageManifest.decode(Array(json.utf8))
        #expect(m.format == .docker)
        let oci = m.converted(to: .oci)
        #expect(oci.mediaType == MediaType.ociManifest)
        #expect(oci.config.mediaType == MediaType.ociConfig)
        #expect(oci.layers[0].mediaType == MediaType.ociLayerGzip)
        #expect(oci.converted(to: .docker) == m)
    }

    @Test func rejectsUnknownLayerMediaTypeAndBadJSON() throws {
        let hex = String(repeating: "2", count: 64)
        let json = """
        {"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":1,"digest":"sha256:\(hex)"},
         "layers":[{"mediaType":"application/x-foo","size":1,"digest":"sha256:\(hex)"}]}
        """
        #expect(throws: ModelError.unknownMediaType(what: "manifest layer sha256:\(hex)", mediaType: "application/x-foo")) {
            try ImageManifest.decode(Array(json.utf8))
        }
        do {
            _ = try ImageManifest.decode(Array("{\"schemaVersion\":2,".utf8))
            Issue.record("truncated JSON accepted")
        } catch {
            #expect("\(error)".contains("not valid JSON"))
        }
        do {
            _ = try ImageConfig.decode(Array(#"{"architecture":"amd64","os":"linux"}"#.utf8))
            Issue.record("config without rootfs accepted")
        } catch {
            #expect("\(error)".contains("rootfs"))
        }
    }

    @Test func indexPicksPlatform() throws {
        let d = { (arch: String, v: String?) in
            Descriptor(mediaType: MediaType.ociManifest, digest: Digest.sha256(arch + (v ?? "")), size: 1,
                       platform: Platform(architecture: arch, variant: v))
        }
        let index = ImageIndex(manifests: [d("amd64", nil), d("arm", "v7"), d("arm64", "v8")])
        #expect(index.bestManifest(for: try Platform(parsing: "linux/arm64"))?.platform?.architecture == "arm64")
        #expect(index.bestManifest(for: try Platform(parsing: "linux/arm/v7"))?.platform?.variant == "v7")
        #expect(index.bestManifest(for: try Platform(parsing: "linux/s390x")) == nil)
        #expect(try Platform(parsing: "linux/aarch64") == Platform(architecture: "arm64"))
        #expect(throws: Platform.ParseError.self) { try Platform(parsing: "linux//x") }
        #expect(Platform.host.os == "linux")
    }

    @Test("normalisation as containerd's: arm64/v8 is arm64, arm is arm/v7, armhf arm/v7, x86_64 amd64")
    func platformNormalisation() throws {
        #expect(try Platform(parsing: "linux/arm64/v8").description == "linux/arm64")
        #expect(try Platform(parsing: "linux/arm64").variant == nil)
        #expect(try Platform(parsing: "linux/arm").description == "linux/arm/v7")
        #expect(try Platform(parsing: "linux/arm/7").description == "linux/arm/v7")
        #expect(try Platform(parsing: "linux/arm/v6").description == "linux/arm/v6")
        #expect(try Platform(parsing: "linux/armhf").description == "linux/arm/v7")
        #expect(try Platform(parsing: "x86_64").description == "linux/amd64")
        #expect(Platform(architecture: "arm").matches(try Platform(parsing: "linux/arm/v7")))
        #expect(!Platform(architecture: "arm", variant: "v6").matches(try Platform(parsing: "linux/arm/v7")))
        #expect(Platform(architecture: "arm64", variant: "v8").normalized == Platform(architecture: "arm64"))
    }

    @Test func historyPairsWithLayers() throws {
        var c = ImageConfig(diffIDs: [Digest.sha256("a"), Digest.sha256("b")])
        c.history = [History(createdBy: "FROM"), History(createdBy: "ENV x=1", emptyLayer: true), History(createdBy: "RUN y")]
        let pairs = c.historyWithLayers()
        #expect(pairs.map(\.layerIndex) == [0, nil, 1])
    }

    @Test func parsesTimestamps() throws {
        let d = try #require(Timestamp.parse("2025-01-26T22:54:00.500849935+01:00"))
        #expect(abs(d.timeIntervalSince1970 - 1737928440.500849935) < 0.001)
        #expect(Timestamp.parse("2018-12-28T20:44:00Z") != nil)
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
    }

    @Test func timestampsMatchKnownInstants() throws {
        // Values cross-checked with `date -u -d @N +%Y-%m-%dT%H:%M:%SZ`.
        let known: [(Double, String)] = [
            (951_782_400, "2000-02-29T00:00:00Z"), (1_709_208_000, "2024-02-29T12:00:00Z"),
            (4_102_444_799, "2099-12-31T23:59:59Z"), (-86_400, "1969-12-31T00:00:00Z"),
            (1_737_928_440.9, "2025-01-26T21:54:00Z"),
        ]
        for (seconds, text) in known {
            #expect(Timestamp.format(Date(timeIntervalSince1970: seconds)) == text)
            #expect(Timestamp.parse(text)?.timeIntervalSince1970 == seconds.rounded(.down))
        }
        #expect(Timestamp.parse("2024-01-01t00:00:00z")?.timeIntervalSince1970 == 1_704_067_200)
        #expect(Timestamp.parse("2024-01-01 01:30:00+01:30")?.timeIntervalSince1970 == 1_704_067_200)
        #expect(Timestamp.parse("2023-12-31T20:00:00.25-04:00")?.timeIntervalSince1970 == 1_704_067_200.25)
        for bad in ["", "2024-01-01", "2024-13-01T00:00:00Z", "2024-01-01T00:00:00", "2024-01-01T00:00:00.Z",
                    "2024-01-01T00:00:00Zjunk", "2024-01-01T25:00:00Z", "2024-01-01T00:00:00+0100"] {
            #expect(Timestamp.parse(bad) == nil, "\(bad)")
        }
    }
}
