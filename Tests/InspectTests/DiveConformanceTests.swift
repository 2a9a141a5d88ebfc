import Foundation
import Testing
import TestSupport
@testable import Inspect

extension Prerequisite {
    /// dive's test archives (`../shared/conformance/dive`).
    static let diveConformance = Prerequisite.conformance("dive", containing: "test-docker-image.tar")
}

/// `../shared/conformance/dive` (tests that call this require `.diveConformance`).
func diveConformanceDirectory() throws -> String {
    try #require(Host.conformance("dive"), "../shared/conformance/dive is absent")
}

@Suite(.requires(.diveConformance)) struct DiveConformanceTests {
    /// The figures of dive's own test (EXPECTED.md), to the last digit, from the real archive.
    @Test func dockerArchiveFiguresMatchDive() async throws {
        let dir = try diveConformanceDirectory()
        let image = try await ImageLoader.load(dir + "/test-docker-image.tar", storeRoot: "/nonexistent")
        #expect(image.layers.count == 14)
        let analysis = Analyzer.analyze(image)
        let e = analysis.efficiency
        #expect(e.efficiency == 0.9844212134184309)
        #expect(e.sizeBytes == 1_220_598)
        #expect(e.userSizeBytes == 66_237)
        #expect(e.wastedBytes == 32_025)
        #expect(e.wastedUserPercent == 0.4834911001404049)
        #expect(e.inefficiencies.map(\.path) == ["/root/example/somefile1.txt", "/root/saved.txt",
                                                 "/root/example/somefile3.txt"])
        // Commands come from the config history, skipping empty layers.
        #expect(analysis.layers[1].command.contains("ADD file:") || analysis.layers[1].command.contains("somefile.txt"))
        #expect(analysis.layers[13].command.contains("chmod +x /root/saved.txt"))
        // chmod 444 keeps the content: modified, not added.
        #expect(analysis.layers[4].changes.modified == Tally(files: 1, bytes: 6405))
        #expect(analysis.layers[9].changes.removed == Tally(files: 2, bytes: 12810))
    }

    /// The OCI archives with gzip, zstd and uncompressed layers give the same file tree.
    @Test func ociArchivesGiveTheSameTree() async throws {
        let dir = try diveConformanceDirectory()
        var trees: [[FileRecord]] = []
        for name in ["test-oci-gzip-image.tar", "test-oci-zstd-image.tar", "test-oci-uncompressed-image.tar"] {
            let image = try await ImageLoader.load(dir + "/" + name, storeRoot: "/nonexistent")
            trees.append(Analyzer.finalFilesystem(image).map { var r = $0; r.layer = 0; return r })
        }
        #expect(trees[0].count > 0)
        #expect(trees[0] == trees[1])
        #expect(trees[0] == trees[2])
    }

    @Test func badInputsGiveOneClearLine() async throws {
        let dir = try diveConformanceDirectory()
        let temp = NSTemporaryDirectory() + "slipway-bad-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: temp + "/empty", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let whole = try Data(contentsOf: URL(fileURLWithPath: dir + "/test-docker-image.tar"))
        try whole.prefix(300_000).write(to: URL(fileURLWithPath: temp + "/truncated.tar"))
        do {
            _ = try await ImageLoader.load(temp + "/truncated.tar", storeRoot: "/nonexistent")
            Issue.record("a truncated archive loaded")
        } catch {
            let text = "\(error)"
            #expect(text.hasPrefix(temp + "/truncated.tar: "), "\(text)")
            #expect(text.contains("truncated"))
        }
        do {
            _ = try await ImageLoader.load(temp + "/empty", storeRoot: "/nonexistent")
            Issue.record("an empty directory loaded")
        } catch {
            #expect("\(error)" == temp + "/empty: not an OCI image layout (no index.json)")
        }
    }

    @Test func missingImageIsAClearError() async throws {
        await #expect(throws: ImageLoadError.self) {
            try await ImageLoader.load("/nonexistent/archive.tar", storeRoot: "/nonexistent")
        }
    }
}
