import Foundation
import Testing
@testable import Inspect
import TestSupport

@Suite struct HTMLReportTests {
    func report() -> ImageAnalysis {
        var layers = diveTestLayers()
        layers.append(LayerInput(command: "RUN apt-get install -y gcc <script>alert(1)</script>", entries: [
            LayerEntry(path: "usr/lib/gcc/x86_64-linux-gnu/12/cc1", kind: .file, size: 30_000_000),
            LayerEntry(path: "usr/include/stdio.h", kind: .file, size: 30_000),
            LayerEntry(path: "var/lib/apt/lists/x_Packages", kind: .file, size: 9_000_000),
        ]))
        return Analyzer.analyze(ImageInput(name: "demo & <test>", layers: layers))
    }

    @Test func pageIsSelfContainedAndEscaped() {
        let page = report().renderHTML()
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(page.contains("<svg"))
        #expect(page.contains("A multi-stage build would drop ≈ <b>"))
        #expect(page.contains("build-only files: 39.0 MB"))
        #expect(page.contains("/root/example/somefile1.txt"))
        #expect(page.contains("demo &amp; &lt;test&gt;"))
        #expect(!page.contains("<script"))
        // Nothing is fetched: no external URLs in src/href attributes.
        #expect(!page.contains("src=\"http"))
        #expect(!page.contains("href=\"http"))
    }

    /// Renders the page in headless Chromium, checks a screenshot is produced and that the
    /// browser logged no console message (errors, failed loads).
    @Test(.requires(.chromium))
    func rendersInHeadlessChromiumWithoutConsoleErrors() async throws {
        let chromium = try #require(Host.chromium)
        let dir = NSTemporaryDirectory() + "slipway-html-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = dir + "/report.html"
        try Data(report().renderHTML().utf8).write(to: URL(fileURLWithPath: good))
        let (shot, console) = try await render(chromium, good, dir + "/report.png")
        #expect(shot > 10_000, "screenshot too small: \(shot) bytes")
        #expect(console.isEmpty, "console output: \(console)")

        // The detector itself works: a page with a script error is caught.
        let bad = dir + "/bad.html"
        try Data("<!DOCTYPE html><html><body><script>console.error('boom')</script></body></html>".utf8)
            .write(to: URL(fileURLWithPath: bad))
        let (_, badConsole) = try await render(chromium, bad, dir + "/bad.png")
        #expect(badConsole.contains { $0.contains("boom") })
    }

    func render(_ chromium: String, _ page: String, _ screenshot: String) async throws -> (Int, [String]) {
        try await HeadlessChromium.render(chromium, page: page, screenshot: screenshot)
    }
}
