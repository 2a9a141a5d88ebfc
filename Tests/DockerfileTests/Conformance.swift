import Foundation

/// Locates `../shared/conformance` relative to the package root; nil (tests skip) when absent.
enum Conformance {
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var buildkit: URL? {
        // `../shared` beside the package; a worktree under /work/wt/<name> sits one level deeper.
        let parent = packageRoot.deletingLastPathComponent()
        for base in [parent, parent.deletingLastPathComponent()] {
            let url = base.appendingPathComponent("shared/conformance/buildkit")
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        return nil
    }

    static func skipMessage(_ what: String) {
        print("skipping \(what): ../shared/conformance/buildkit not found")
    }

    static func directories(_ url: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.sorted().map { url.appendingPathComponent($0) }
    }
}
