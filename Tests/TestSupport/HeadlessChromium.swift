import Foundation

/// Renders a local HTML page in headless Chromium: the screenshot's size and every console line
/// the page logged (errors, failed loads). The one renderer of the HTML reports' tests.
public enum HeadlessChromium {
    public static func render(_ chromium: String, page: String, screenshot: String) async throws -> (bytes: Int, console: [String]) {
        try await offPool { try renderBlocking(chromium, page: page, screenshot: screenshot) }
    }

    static func renderBlocking(_ chromium: String, page: String, screenshot: String) throws -> (bytes: Int, console: [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                             "--window-size=1200,1600", "--screenshot=\(screenshot)", "--enable-logging=stderr", "--v=0",
                             "--user-data-dir=\(screenshot).profile", "file://\(page)"]
        let errPipe = Pipe()
        process.standardError = errPipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let data = errPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        let console = lines.filter { $0.contains(":CONSOLE") }
        let size = (try? FileManager.default.attributesOfItem(atPath: screenshot)[.size] as? Int) ?? 0
        try? FileManager.default.removeItem(atPath: screenshot + ".profile")
        return (size, console)
    }
}
