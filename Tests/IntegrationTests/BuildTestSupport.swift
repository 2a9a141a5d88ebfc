import Foundation
import Testing
import TestSupport

/// Helpers for the build integration tests: they drive the built `.build/debug/slipway` against a
/// private store and base images made from scripts/fixtures.sh (no Docker Hub here).
enum BuildHarness {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static var binary: String { Host.slipwayBinary }

    /// What the build integration tests need from the machine: suites state it as
    /// `.requires(BuildHarness.requirements)` (plus their own tools). Base images come from
    /// scripts/fixtures.sh, built on demand by the tests (a fixture that fails to build fails
    /// the test).
    static let requirements: [Prerequisite] = [.root, .slipwayBinary, .runc, .busybox]

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var seconds: Double
        var combined: String { stdout + stderr }
    }

    /// Runs a command through TestSupport's `runProcess` (output to files, the wait on a thread
    /// of its own, `CI` removed from the child's environment), `stdin` given as text.
    @discardableResult
    static func run(_ argv: [String], cwd: String? = nil, env: [String: String] = [:], stdin: String? = nil) async throws -> Result {
        try await offPool { try runBlocking(argv, cwd: cwd, env: env, stdin: stdin) }
    }

    /// `run` for work already off the cooperative pool (a `Fixtures.poll` probe).
    static func runBlocking(_ argv: [String], cwd: String? = nil, env: [String: String] = [:], stdin: String? = nil) throws -> Result {
        var input: String?
        if let stdin {
            let file = NSTemporaryDirectory() + "slipway-stdin-" + UUID().uuidString
            try stdin.write(toFile: file, atomically: true, encoding: .utf8)
            input = file
        }
        defer { if let input { unlink(input) } }
        let r = try runProcessBlocking(argv, cwd: cwd, env: env, stdinFile: input)
        return Result(status: r.status, stdout: r.stdout, stderr: r.stderr, seconds: r.seconds)
    }

    /// A fixture's directory (built once and cached by scripts/fixtures.sh).
    static func fixture(_ name: String) async throws -> String {
        let r = try await run(["/bin/bash", packageRoot + "/scripts/fixtures.sh", name])
        guard r.status == 0 else { throw HarnessError.failed("fixtures.sh \(name): \(r.stderr)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Mounts under `path` (from /proc/mounts): must be empty after every build.
    static func mounts(under path: String) -> [String] {
        guard let text = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ")
            guard f.count > 1, f[1].hasPrefix(path) else { return nil }
            return String(f[1])
        }
    }
}

enum HarnessError: Error, CustomStringConvertible {
    case failed(String)
    var description: String {
        switch self {
        case .failed(let m): return m
        }
    }
}

/// A private store plus a scratch project directory for one test.
final class BuildSandbox {
    let root: String
    let store: String
    let context: String

    /// `sharedStore`: a store kept between test runs (base images imported once, CI stays fast).
    init(sharedStore: String? = nil) throws {
        root = "/var/tmp/slipway-it-" + UUID().uuidString.prefix(8).lowercased()
        store = sharedStore ?? root + "/store"
        context = root + "/ctx"
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
    }

    /// The store the example tests share between runs: one per checkout, so that test runs of
    /// other checkouts (CI clones, other worktrees) never build in it at the same time.
    static let examplesStore: String = {
        var h: UInt64 = 1469598103934665603
        for b in BuildHarness.packageRoot.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        return "/var/tmp/slipway-it-examples-store-" + String(h, radix: 16)
    }()

    /// Whether the store already has image `name`.
    func hasImage(_ name: String) async throws -> Bool {
        (try await slipway(["inspect", name])).status == 0
    }

    deinit {
        for m in BuildHarness.mounts(under: root).reversed() { _ = umount2(m, Int32(MNT_DETACH)) }
        try? FileManager.default.removeItem(atPath: root)
    }

    /// The npm project files the article's Node Dockerfile copies (no dependencies: there is no
    /// npm registry here); the test writes its own `src/index.js`.
    func writeNodeProject() throws {
        try write("package.json", """
            {"name": "api", "version": "1.0.0", "private": true,
             "scripts": {"build": "mkdir -p dist node_modules && cp src/index.js dist/index.js"}}
            """)
        try write("package-lock.json", """
            {"name": "api", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
             "packages": {"": {"name": "api", "version": "1.0.0"}}}
            """)
        try write("tsconfig.json", "{}\n")
    }

    func write(_ path: String, _ text: String) throws {
        let full = context + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
    }

    @discardableResult
    func slipway(_ args: [String], stdin: String? = nil) async throws -> BuildHarness.Result {
        // `run` passes everything after IMAGE to the container: --root goes right after `run`.
        // Elsewhere it goes last (`cache ls --root X`: nested subcommands take it after their name).
        if args.first == "run" {
            return try await BuildHarness.run([BuildHarness.binary, "run", "--root", store] + args.dropFirst(), cwd: context, stdin: stdin)
        }
        return try await BuildHarness.run([BuildHarness.binary] + args + ["--root", store], cwd: context, stdin: stdin)
    }

    /// Imports a fixture rootfs as image `name` into this sandbox's store.
    func importFixture(_ fixture: String, as name: String) async throws {
        if store == Self.examplesStore, try await hasImage(name) { return }
        let dir = try await BuildHarness.fixture(fixture)
        let help = try await BuildHarness.run([BuildHarness.binary, "--help"])
        let r: BuildHarness.Result
        if help.stdout.contains("  import") {
            r = try await slipway(["import", dir + "/rootfs.tar", name])
        } else {
            // No `import` command in this build: a FROM scratch + ADD of the tarball makes the same image.
            r = try await BuildHarness.run([BuildHarness.binary, "build", "--root", store, "--progress", "quiet", "-t", name, "-f", "-", dir],
                                     stdin: "FROM scratch\nADD rootfs.tar /\n")
        }
        guard r.status == 0 else { throw HarnessError.failed("importing \(fixture): \(r.combined)") }
    }

    func build(_ args: [String]) async throws -> BuildHarness.Result {
        try await slipway(["build", "--progress", "plain"] + args + [context])
    }

    /// The image ID the build's last line names.
    static func imageID(_ r: BuildHarness.Result) -> String? {
        guard let m = r.stdout.range(of: "sha256:[0-9a-f]{64}", options: .regularExpression) else { return nil }
        return String(r.stdout[m])
    }

    /// Step events from `--progress json` output.
    static func events(_ r: BuildHarness.Result) -> [[String: Any]] {
        r.stderr.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Names of steps that actually ran (not cached) in a json-progress build.
    static func ranSteps(_ r: BuildHarness.Result) -> [String] {
        events(r).filter { $0["event"] as? String == "started" }.compactMap { $0["name"] as? String }
    }

    /// Leftovers that a finished build must not leave: mounts and temp directories.
    func leftovers() -> [String] {
        var out = BuildHarness.mounts(under: root) + BuildHarness.mounts(under: store)
        if let tmp = try? FileManager.default.contentsOfDirectory(atPath: store + "/tmp") {
            out += tmp.map { "tmp/" + $0 }
        }
        return out
    }
}
