import Foundation
import TestSupport

/// One differential case: a directory under `Cases/` (or `Examples/`) holding the build context
/// (its `Dockerfile` plus any files and `.dockerignore` it needs) and, optionally, `case.json`
/// with the build's options and `expected.json` (for cases BuildKit 0.8 cannot build). Adding a
/// case is adding a directory; nothing else names it.
struct CaseSpec: Sendable, CustomStringConvertible {
    /// What `case.json` may say; every key is optional.
    struct Options: Codable, Sendable {
        /// `--build-arg K=V` for both builders (`{{HTTP}}` in a value: the session's file server).
        var buildArgs: [String: String]?
        /// `--target`.
        var target: String?
        /// The Dockerfile, relative to the case directory (default `Dockerfile`).
        var dockerfile: String?
        /// `--secret id=ID,src=FILE`: id → file relative to the case directory.
        var secrets: [String: String]?
        /// Forward an ssh-agent socket as `--ssh default`.
        var ssh: Bool?
        /// Base images beyond the default ones (`BaseImage.defaults`).
        var bases: [BaseImage]?
        /// The Dockerfile is one of the article's (`ArticleDockerfiles.fixed`, by name) rather than
        /// a file in the case directory.
        var article: String?
        /// The build context (Dockerfile included) is one of the article's example projects as
        /// `ArticleExamples` writes it (`rust`, `java`), added to the case directory's files.
        var project: String?
    }

    /// Stands for the session's file server (`http://127.0.0.1:PORT`, serving `Cases/`) in
    /// `buildArgs` values and in expected.json, for the `ADD <url>` cases.
    static let httpPlaceholder = "{{HTTP}}"

    /// Files of the case directory that belong to the suite, not to the build context.
    static let suiteFiles: Set<String> = ["case.json", "expected.json"]

    let name: String
    let directory: String
    let options: Options

    var description: String { name }

    /// The Dockerfile's text.
    func dockerfileText() throws -> String {
        if let article = options.article {
            guard let text = ArticleDockerfiles.fixed.first(where: { $0.0 == article })?.1 else {
                throw DifferentialError("\(name): no article Dockerfile named '\(article)'")
            }
            return text
        }
        return try String(contentsOfFile: directory + "/" + (options.dockerfile ?? "Dockerfile"), encoding: .utf8)
    }

    var expectedPath: String { directory + "/expected.json" }
    var hasExpectedOutput: Bool { FileManager.default.fileExists(atPath: expectedPath) }

    /// The cases under `root`, one per directory, by name.
    static func all(in root: String) -> [CaseSpec] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.sorted().compactMap { name in
            var isDirectory: ObjCBool = false
            let dir = root + "/" + name
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
            return try? load(name: name, directory: dir)
        }
    }

    static func load(name: String, directory: String) throws -> CaseSpec {
        var options = Options()
        let json = directory + "/case.json"
        if let data = FileManager.default.contents(atPath: json) {
            do {
                options = try JSONDecoder().decode(Options.self, from: data)
            } catch {
                throw DifferentialError("\(json): \(error)")
            }
        }
        return CaseSpec(name: name, directory: directory, options: options)
    }
}

/// A base image both builders get with identical bytes: a fixture root filesystem
/// (`scripts/fixtures.sh NAME`) imported by Slipway, optionally built on with `prepare`
/// (Dockerfile lines after its FROM; the context holds `host-ca-certificates.crt`, the host's CA
/// bundle), tagged with `names`, then `slipway save`d and `docker load`ed.
struct BaseImage: Codable, Sendable, Hashable {
    var names: [String]
    var fixture: String
    var prepare: [String]?

    /// Every case can use these.
    static let defaults = [
        BaseImage(names: ["fixture/busybox:latest"], fixture: "busybox"),
        BaseImage(names: ["fixture/debian:latest"], fixture: "debian"),
    ]
}
