import Testing
@testable import Inspect

@Suite struct AnalyzerTests {
    @Test func classifiesLayerChangesOfTheDiveImage() {
        let image = ImageInput(name: "dive-test", layers: diveTestLayers())
        let analysis = Analyzer.analyze(image)
        let changes = analysis.layers.map(\.changes)
        #expect(changes[1].added == Tally(files: 1, bytes: 6405))
        #expect(changes[3].added == Tally(files: 1, bytes: 6405))
        // chmod 444: same content, different mode.
        #expect(changes[4].modified == Tally(files: 1, bytes: 6405))
        #expect(changes[4].added.files == 0)
        // mv somefile3 → saved.txt
        #expect(changes[7].removed == Tally(files: 1, bytes: 6405))
        #expect(changes[7].added == Tally(files: 1, bytes: 6405))
        // rm -rf /root/example removes somefile1 and somefile2.
        #expect(changes[9].removed == Tally(files: 2, bytes: 12810))
        #expect(changes[13].modified == Tally(files: 1, bytes: 6405))
        let paths = Set(Analyzer.finalFilesystem(image).map(\.path))
        #expect(paths.contains("/root/saved.txt"))
        #expect(!paths.contains("/root/example"))
        #expect(!paths.contains("/root/example/somefile1.txt"))
        #expect(paths.contains("/tmp/saved.again1.txt"))
        #expect(analysis.efficiency.wastedBytes == 32_025)
    }

    @Test func opaqueDirectoryHidesLowerContent() {
        let image = ImageInput(name: "x", layers: [
            LayerInput(entries: [LayerEntry(path: "a/x", kind: .file, size: 10), LayerEntry(path: "a/y", kind: .file, size: 5)]),
            LayerInput(entries: [LayerEntry(path: "a/", kind: .directory), LayerEntry(path: "a/.wh..wh..opq", kind: .file),
                                 LayerEntry(path: "a/z", kind: .file, size: 1)]),
        ])
        let analysis = Analyzer.analyze(image)
        #expect(analysis.layers[1].changes.removed == Tally(files: 2, bytes: 15))
        #expect(analysis.layers[1].changes.added == Tally(files: 1, bytes: 1))
        #expect(Analyzer.finalFilesystem(image).map(\.path) == ["/a", "/a/z"])
        #expect(analysis.finalSize == 1)
    }

    @Test func buildOnlyBreakdown() {
        let files: [(String, Int64)] = [
            ("usr/bin/gcc-12", 1_000_000), ("usr/lib/gcc/x86_64-linux-gnu/12/cc1", 30_000_000),
            ("usr/include/stdio.h", 20_000), ("usr/lib/x86_64-linux-gnu/libc.a", 5_000_000),
            ("var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease", 150_000), ("root/.npm/_cacache/x", 700_000),
            ("app/.git/objects/ab", 300_000), ("usr/share/doc/gcc/README", 10_000), ("usr/share/man/man1/ls.1.gz", 4_000),
            ("app/src/main.go", 2_000), ("app/node_modules/lodash/test/a.js", 1_000),
            ("usr/local/go/bin/go", 15_000_000), ("app/server", 8_000_000), ("usr/lib/x86_64-linux-gnu/libc.so.6", 2_000_000),
            ("usr/bin/test", 50_000), ("app/node_modules/@types/node/index.d.ts", 3_000),
        ]
        let image = ImageInput(name: "x", layers: [LayerInput(entries: files.map {
            LayerEntry(path: $0.0, kind: .file, size: $0.1)
        })])
        let report = Analyzer.analyze(image).buildOnly
        let byClass = Dictionary(uniqueKeysWithValues: report.classes.map { ($0.kind, $0.bytes) })
        #expect(byClass[.toolchains] == 46_000_000)
        #expect(byClass[.headers] == 20_000)
        #expect(byClass[.staticLibraries] == 5_000_000)
        #expect(byClass[.packageCaches] == 850_000)
        #expect(byClass[.vcs] == 300_000)
        #expect(byClass[.docs] == 14_000)
        #expect(byClass[.sources] == 2_000)
        #expect(byClass[.tests] == 1_000)
        #expect(report.bytes == 52_187_000)
        #expect(report.finalBytes == 62_240_000)
        #expect(report.classes.first?.kind == .toolchains)
        #expect(report.classes.first?.topDirectories.first?.path == "/usr/lib/gcc")
        let caches = report.classes.first { $0.kind == .packageCaches }
        #expect(caches?.topDirectories.map(\.path) == ["/root/.npm", "/var/lib/apt/lists"])
        let text = Analyzer.analyze(image).renderText()
        #expect(text.contains("A multi-stage build would drop ≈ 52.2 MB (83.8 %)"))
    }

    @Test func ciThresholdsFollowDive() {
        let analysis = Analyzer.analyze(ImageInput(name: "dive", layers: diveTestLayers()))
        let defaults = CIEvaluator.evaluate(analysis, thresholds: CIThresholds())
        #expect(defaults.map(\.status) == [.pass, .skip, .fail, .skip])
        let strict = CIEvaluator.evaluate(analysis, thresholds: CIThresholds(
            lowestEfficiency: 0.99, highestWastedBytes: 32_025, highestUserWastedPercent: 0.5, maxBuildOnlyPercent: 0))
        #expect(strict.map(\.status) == [.fail, .pass, .pass, .pass])
        #expect(ByteFormat.parse("20MB") == 20_000_000)
        #expect(ByteFormat.parse("1 MiB") == 1_048_576)
        #expect(ByteFormat.parse("abc") == nil)
        #expect(ByteFormat.parseRatio("10%") == 0.1)
    }
}
