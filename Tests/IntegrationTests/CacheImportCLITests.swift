import Foundation
import Testing
import TestSupport

/// `slipway cache import` of crafted archives through the built binary (issue 18 #6): an `id`
/// linking to /etc/shadow or /dev/zero is refused by name, prints nothing of the target, and
/// control characters in the archive's names reach the terminal escaped (#10).
@Suite struct CacheImportCLITests {
    @Test(.requires(.slipwayBinary)) func symlinkedIDIsRefused() async throws {
        let bin = Fixtures.slipwayBinary
        let dir = try Fixtures.scratch("cache-import")
        defer { Fixtures.removeScratch(dir) }
        let key = String(repeating: "cd", count: 32)
        for (i, target) in ["/etc/shadow", "/dev/zero", "/etc/shadow\u{1B}]0;owned\u{07}\r"].enumerated() {
            let src = dir + "/src\(i)"
            try FileManager.default.createDirectory(atPath: src + "/" + key + "/data", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: src + "/" + key + "/id", withDestinationPath: target)
            try await Fixtures.sh("tar -C '\(src)' -cf '\(dir)/evil\(i).tar' .")
            let store = dir + "/store"
            let start = Date()
            let r = try await Fixtures.slipway(bin, root: store, ["cache", "import", "-i", "\(dir)/evil\(i).tar"])
            #expect(Date().timeIntervalSince(start) < 60, "an id linking to \(target) must fail at once, not read it")
            #expect(r.status != 0, "\(r.stdout)\(r.stderr)")
            #expect(r.stderr.contains("member '\(key)/id' is a symbolic link to '"), "\(r.stderr)")
            #expect(!r.stdout.contains("root:") && !r.stderr.contains("root:"), "the target's content was printed")
            #expect(!r.stderr.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, "raw control characters: \(r.stderr.debugDescription)")
            if i == 2 { #expect(r.stderr.contains("/etc/shadow\\x1b]0;owned\\x07\\r'"), "\(r.stderr)") }
            let ls = try await Fixtures.slipway(bin, root: store, ["cache", "ls"])
            #expect(ls.status == 0 && ls.stdout.isEmpty, "\(ls.stdout)")
        }
    }
}
