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
        #expect(changes[10].topDirectories == [DirectoryBytes(path: "/root/.data", bytes: 2187, files: 2)])
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
            ("usr/share/doc/node-gyp/README.md", 2_000),
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
        #expect(byClass[.docs] == 16_000)
        #expect(byClass[.sources] == 2_000)
        #expect(byClass[.tests] == 1_000)
        #expect(report.bytes == 52_189_000)
        #expect(report.finalBytes == 62_242_000)
        #expect(report.classes.first?.kind == .toolchains)
        #expect(report.classes.first?.topDirectories.first?.path == "/usr/lib/gcc")
        let caches = report.classes.first { $0.kind == .packageCaches }
        #expect(caches?.topDirectories.map(\.path) == ["/root/.npm", "/var/lib/apt/lists"])
        let text = Analyzer.analyze(image).renderText()
        #expect(text.contains("A multi-stage build would drop ≈ 52.2 MB (83.8 %)"))
    }

    /// Issue 18 #10: tar entry names and history commands reach the text report escaped, so a
    /// name cannot set the terminal title or rewrite a line.
    @Test func textReportEscapesControlCharactersInNames() {
        let evil = "srv/evil\u{1B}]0;owned\u{07}\rdir"
        let image = ImageInput(name: "x", layers: [
            LayerInput(command: "COPY \u{1B}[2J . /", entries: [LayerEntry(path: evil + "/f", kind: .file, size: 2_000_000)]),
            LayerInput(entries: [LayerEntry(path: evil + "/f", kind: .file, size: 2_000_000)]),
        ])
        let text = Analyzer.analyze(image).renderText()
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, "\(text.debugDescription)")
        #expect(text.contains("/srv/evil\\x1b]0;owned\\x07\\rdir"), "\(text)")
        #expect(text.contains("COPY \\x1b[2J . /"), "\(text)")
    }

    @Test func ciThresholdsFollowDive() throws {
        let analysis = Analyzer.analyze(ImageInput(name: "dive", layers: diveTestLayers()))
        let defaults = CIEvaluator.evaluate(analysis, thresholds: CIThresholds())
        #expect(defaults.map(\.status) == [.pass, .skip, .fail, .skip])
        let strict = CIEvaluator.evaluate(analysis, thresholds: CIThresholds(
            lowestEfficiency: 0.99, highestWastedBytes: 32_025, highestUserWastedPercent: 0.5, maxBuildOnlyPercent: 0))
        #expect(strict.map(\.status) == [.fail, .pass, .pass, .pass])
        var fromFile = CIThresholds()
        try fromFile.apply(diveCI: """
            rules:
              # If the efficiency is measured below X%, mark as failed.
              lowest-efficiency: 0.95
              highestWastedBytes: 20MB
              highest-user-wasted-percent: disabled
              max-build-only-percent: "25%"
            """)
        #expect(fromFile == CIThresholds(lowestEfficiency: 0.95, highestWastedBytes: 20_000_000,
                                         highestUserWastedPercent: nil, maxBuildOnlyPercent: 0.25))
        #expect(throws: CIConfigError.self) { try fromFile.apply(diveCI: "rules:\n  lowest-efficiency: high\n") }
        #expect(ByteFormat.parse("20MB") == 20_000_000)
        #expect(ByteFormat.parse("1 MiB") == 1_048_576)
        #expect(ByteFormat.parse("abc") == nil)
        #expect(ByteFormat.parseRatio("10%") == 0.1)
    }
}

@Suite struct StaticProgramTests {
    /// A minimal ELF64 header with one program header of the given type.
    static func elf(programHeaderType: UInt8) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 120)
        bytes[0...3] = [0x7F, 0x45, 0x4C, 0x46]
        bytes[4] = 2  // 64-bit
        bytes[5] = 1  // little endian
        bytes[0x20] = 64  // e_phoff
        bytes[0x36] = 56  // e_phentsize
        bytes[0x38] = 1  // e_phnum
        bytes[64] = programHeaderType
        return bytes
    }

    @Test func detectsStaticAndDynamicELF() {
        #expect(ExecutableFormat.detect(Self.elf(programHeaderType: 1)) == .staticELF)
        #expect(ExecutableFormat.detect(Self.elf(programHeaderType: 3)) == .dynamicELF)
        #expect(ExecutableFormat.detect(Array("#!/bin/sh\necho".utf8)) == .script)
        #expect(ExecutableFormat.detect([1, 2, 3]) == .other)
    }

    @Test func staticEntrypointPredictsAScratchStage() {
        let base = LayerInput(entries: [
            LayerEntry(path: "usr/lib/go-1.19/bin/go", kind: .file, size: 15_000_000, mode: 0o755, executable: .staticELF),
            LayerEntry(path: "usr/lib/x86_64-linux-gnu/libc.so.6", kind: .file, size: 2_000_000),
            LayerEntry(path: "bin/bash", kind: .file, size: 1_200_000, mode: 0o755, executable: .dynamicELF),
            LayerEntry(path: "etc/ssl/certs/ca-certificates.crt", kind: .file, size: 200_000),
            LayerEntry(path: "etc/passwd", kind: .file, size: 1_000),
        ])
        let app = LayerInput(entries: [
            LayerEntry(path: "app/server", kind: .file, size: 7_000_000, mode: 0o755, executable: .staticELF),
            LayerEntry(path: "usr/local/bin/server", kind: .symlink, linkTarget: "../../../app/server"),
        ])
        let image = ImageInput(name: "go:single", layers: [base, app], cmd: ["server"])
        let report = Analyzer.analyze(image).buildOnly
        let program = report.staticProgram
        #expect(program != nil)
        #expect(program?.program == "/usr/local/bin/server")
        #expect(program?.keptBytes == 7_201_000)
        #expect(program?.droppedBytes == 18_200_000)
        #expect(report.predictedSaving == 18_200_000)
        // A dynamic program keeps its base: only the build-only estimate applies.
        let dynamic = Analyzer.analyze(ImageInput(name: "x", layers: [base], entrypoint: ["/bin/bash"])).buildOnly
        #expect(dynamic.staticProgram == nil)
        #expect(dynamic.predictedSaving == 15_000_000)
    }
}
