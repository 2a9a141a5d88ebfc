import Testing
@testable import Inspect

/// The layers of dive's test image (`Dockerfile.test-image`), entry for entry, on top of a
/// stand-in base layer of the same byte count as busybox's.
func diveTestLayers() -> [LayerInput] {
    func dir(_ p: String, _ mode: UInt32 = 0o755) -> LayerEntry { LayerEntry(path: p + "/", kind: .directory, mode: mode) }
    func file(_ p: String, _ size: Int64 = 6405, mode: UInt32 = 0o644, hash: UInt64 = 1) -> LayerEntry {
        LayerEntry(path: p, kind: .file, size: size, mode: mode, contentHash: hash)
    }
    func wh(_ p: String) -> LayerEntry { LayerEntry(path: p, kind: .file, mode: 0) }
    let layers: [[LayerEntry]] = [
        [dir("bin"), file("bin/[", 1_154_361, mode: 0o755, hash: 9),
         LayerEntry(path: "bin/ls", kind: .hardlink, linkTarget: "bin/["), dir("root", 0o700), dir("tmp", 0o1777)],
        [file("somefile.txt", mode: 0o664)],
        [dir("root", 0o700), dir("root/example"), dir("root/example/really"), dir("root/example/really/nested")],
        [dir("root", 0o700), dir("root/example"), file("root/example/somefile1.txt")],
        [dir("root", 0o700), dir("root/example"), file("root/example/somefile1.txt", mode: 0o444)],
        [dir("root", 0o700), dir("root/example"), file("root/example/somefile2.txt")],
        [dir("root", 0o700), dir("root/example"), file("root/example/somefile3.txt")],
        [dir("root", 0o700), dir("root/example"), wh("root/example/.wh.somefile3.txt"), file("root/saved.txt")],
        [dir("root", 0o700), file("root/.saved.txt")],
        [dir("root", 0o700), wh("root/.wh.example")],
        [dir("root", 0o700), dir("root/.data"), file("root/.data/tag.sh", 917, mode: 0o775, hash: 2),
         file("root/.data/test.sh", 1270, mode: 0o755, hash: 3)],
        [dir("tmp", 0o1777), file("tmp/saved.again1.txt")],
        [dir("root", 0o700), dir("root/.data"), file("root/.data/saved.again2.txt")],
        [dir("root", 0o700), file("root/saved.txt", mode: 0o755)],
    ]
    return layers.enumerated().map { LayerInput(digest: "layer\($0.offset)", command: "step \($0.offset)", entries: $0.element) }
}

@Suite struct EfficiencyTests {
    @Test func diveFiguresOnTheTestImageStructure() {
        let report = Efficiency.compute(layers: diveTestLayers())
        #expect(report.sizeBytes == 1_220_598)
        #expect(report.userSizeBytes == 66_237)
        #expect(report.wastedBytes == 32_025)
        #expect(report.efficiency == 0.9844212134184309)
        #expect(report.wastedUserPercent == 0.4834911001404049)
        #expect(report.inefficiencies.map(\.path) == ["/root/example/somefile1.txt", "/root/saved.txt",
                                                      "/root/example/somefile3.txt"])
        #expect(report.inefficiencies.map(\.count) == [2, 2, 2])
        #expect(report.inefficiencies.map(\.cumulativeSize) == [12810, 12810, 6405])
    }

    @Test func emptyImageIsFullyEfficient() {
        let report = Efficiency.compute(layers: [])
        #expect(report.efficiency == 1.0)
        #expect(report.wastedBytes == 0)
        #expect(report.wastedUserPercent == 0)
    }

    @Test func directoryWhiteoutCountsTheWholeSubtree() {
        let layers = [
            LayerInput(entries: [LayerEntry(path: "a/", kind: .directory), LayerEntry(path: "a/x", kind: .file, size: 100),
                                 LayerEntry(path: "a/y/z", kind: .file, size: 50)]),
            LayerInput(entries: [LayerEntry(path: ".wh.a", kind: .file)]),
        ]
        let report = Efficiency.compute(layers: layers)
        // /a/x and /a/y/z (150) once each, plus the whiteout of /a worth 150 with a minimum of 150.
        #expect(report.wastedBytes == 0)
        #expect(report.efficiency == 1.0)
        #expect(report.sizeBytes == 150)
    }

    @Test func opaqueMarkersAreIgnoredLikeDive() {
        let layers = [
            LayerInput(entries: [LayerEntry(path: "a/x", kind: .file, size: 10)]),
            LayerInput(entries: [LayerEntry(path: "a/.wh..wh..opq", kind: .file), LayerEntry(path: "a/x", kind: .file, size: 30)]),
        ]
        let report = Efficiency.compute(layers: layers)
        #expect(report.wastedBytes == 40)
        #expect(report.efficiency == 0.25)
    }
}

@Suite struct LayerEntryTests {
    @Test func normalizesLikeGoPathClean() {
        #expect(LayerEntry.normalize("./usr/bin/") == "usr/bin")
        #expect(LayerEntry.normalize("/a//b/./c") == "a/b/c")
        #expect(LayerEntry.normalize("a/../b") == "b")
        #expect(LayerEntry.normalize(".") == "")
    }

    @Test func recognisesWhiteouts() {
        let whiteout = LayerEntry(path: "root/.wh.example", kind: .file)
        #expect(whiteout.isWhiteout)
        #expect(whiteout.whiteoutTarget == "root/example")
        let opaque = LayerEntry(path: "var/.wh..wh..opq", kind: .file)
        #expect(opaque.isOpaqueMarker)
        #expect(!opaque.isWhiteout)
        #expect(LayerEntry(path: "etc/passwd", kind: .file).whiteoutTarget == nil)
    }
}
