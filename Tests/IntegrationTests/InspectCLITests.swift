import Foundation
import Testing
import TestSupport

/// Runs the built `slipway` binary: analyze, compare and lint end to end.
@Suite(.requires(.slipwayBinary)) struct InspectCLITests {
    static let binary = Host.slipwayBinary

    /// dive's test archives (the tests that read them require `.diveArchives`).
    static func diveDirectory() throws -> String {
        try #require(Host.conformance("dive"), "../shared/conformance/dive is absent")
    }

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    func slipway(_ arguments: [String], in directory: String? = nil) async throws -> Run {
        try await Fixtures.offPool { try Self.runBlocking(Self.binary, arguments, in: directory) }
    }

    /// Runs `binary` to completion with a private store; call it off the cooperative pool.
    private static func runBlocking(_ binary: String, _ arguments: [String], in directory: String?) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var environment = ProcessInfo.processInfo.environment
        environment["CI"] = nil
        environment["SLIPWAY_ROOT"] = NSTemporaryDirectory() + "slipway-cli-store-" + UUID().uuidString
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if let root = environment["SLIPWAY_ROOT"] { try? FileManager.default.removeItem(atPath: root) }
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test(.requires(.diveArchives))
    func analyzeJSONHasDiveFigures() async throws {
        let dir = try Self.diveDirectory()
        let run = try await slipway(["analyze", "--format", "json", dir + "/test-docker-image.tar"])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let efficiency = (json?["analysis"] as? [String: Any])?["efficiency"] as? [String: Any]
        // Foundation's JSONSerialization rounds doubles on Linux: check the printed digits.
        #expect(run.stdout.contains("\"efficiency\" : 0.9844212134184309,"))
        #expect(run.stdout.contains("\"wastedUserPercent\" : 0.4834911001404049"))
        #expect(efficiency?["wastedBytes"] as? Int == 32025)
        #expect(efficiency?["sizeBytes"] as? Int == 1_220_598)
        #expect(efficiency?["userSizeBytes"] as? Int == 66237)
    }

    @Test(.requires(.diveArchives))
    func analyzeCIExitsNonZeroWhenAThresholdIsCrossed() async throws {
        let dir = try Self.diveDirectory()
        let image = dir + "/test-docker-image.tar"
        // dive's defaults: user wasted percent 0.48 > 0.1 fails.
        let defaults = try await slipway(["analyze", "--ci", image])
        #expect(defaults.status == 2)
        #expect(defaults.stdout.contains("FAIL: highest-user-wasted-percent"))
        let pass = try await slipway(["analyze", image, "--lowest-efficiency", "0.98", "--highest-wasted-bytes", "40kB",
                                "--highest-user-wasted-percent", "50%", "--max-build-only-percent", "0.1"])
        #expect(pass.status == 0, "\(pass.stdout)")
        let wasted = try await slipway(["analyze", image, "--highest-wasted-bytes", "32024", "--highest-user-wasted-percent", "disabled"])
        #expect(wasted.status == 2)
        let config = NSTemporaryDirectory() + "slipway-dive-ci-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: config) }
        try "rules:\n  lowest-efficiency: 0.99\n  highest-user-wasted-percent: disabled\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let fromFile = try await slipway(["analyze", image, "--ci-config", config])
        #expect(fromFile.status == 2)
        #expect(fromFile.stdout.contains("FAIL: lowest-efficiency") == true)
        let bad = try await slipway(["analyze", image, "--lowest-efficiency", "high"])
        #expect(bad.status == 1)
        #expect(bad.stderr.hasPrefix("error: --lowest-efficiency") == true)
    }

    @Test(.requires(.diveArchives))
    func analyzeWritesHTML() async throws {
        let dir = try Self.diveDirectory()
        let html = NSTemporaryDirectory() + "slipway-\(UUID().uuidString).html"
        defer { try? FileManager.default.removeItem(atPath: html) }
        let run = try await slipway(["analyze", dir + "/test-oci-gzip-image.tar", "--html", html])
        #expect(run.status == 0, "\(run.stderr)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("<svg"))
    }

    @Test(.requires(.diveArchives))
    func analyzeOCILayoutDirectoryAndMissingImage() async throws {
        let dir = try Self.diveDirectory()
        let layout = NSTemporaryDirectory() + "slipway-layout-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: layout, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: layout) }
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["-xf", dir + "/test-oci-uncompressed-image.tar", "-C", layout]
        try tar.run()
        await Fixtures.waitOffPool(tar)
        let fromDir = try await slipway(["analyze", layout])
        #expect(fromDir.status == 0, "\(fromDir.stderr)")
        let fromTar = try await slipway(["analyze", dir + "/test-oci-uncompressed-image.tar"])
        // Same figures whichever way the image is read (the name line differs).
        #expect(fromDir.stdout.split(separator: "\n").dropFirst() == fromTar.stdout.split(separator: "\n").dropFirst())
        let missing = try await slipway(["analyze", "no-such-image:1"])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("error: no image 'no-such-image:1'") == true)
    }

    @Test(.requires(.diveArchives))
    func compareTwoArchives() async throws {
        let dir = try Self.diveDirectory()
        let run = try await slipway(["compare", dir + "/test-docker-image.tar", dir + "/test-oci-zstd-image.tar"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("layers"))
        #expect(run.stdout.contains("Files: +"))
        let json = try await slipway(["compare", "--format", "json", dir + "/test-docker-image.tar", dir + "/test-docker-image.tar"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["reductionPercent"] as? Double == 0)
    }

    @Test func lintFormatsAndExitCodes() async throws {
        let dir = NSTemporaryDirectory() + "slipway-lint-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "FROM node:latest\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD node server.js\n"
            .write(toFile: dir + "/Dockerfile", atomically: true, encoding: .utf8)
        let text = try await slipway(["lint"], in: dir)
        #expect(text.status == 0, "warnings only: \(text.stdout)")
        for expected in ["Dockerfile:1 LatestBaseImage:", "Dockerfile:3 CopyAllBeforeDependencyInstall:",
                         "Dockerfile:3 CopyAllWithoutDockerignore:", "Dockerfile:5 JSONArgsRecommended:",
                         "Dockerfile:1 FinalStageRunsAsRoot:"] {
            #expect(text.stdout.contains(expected), "missing \(expected) in \(text.stdout)")
        }
        let strict = try await slipway(["lint", "--fail-on", "warning", "-f", dir + "/Dockerfile"])
        #expect(strict.status == 1)
        let sarif = try await slipway(["lint", "--format", "sarif", "-f", dir + "/Dockerfile"])
        let document = try JSONSerialization.jsonObject(with: Data(sarif.stdout.utf8)) as? [String: Any]
        #expect(document?["version"] as? String == "2.1.0")
        // The check directive escalates BuildKit's checks to errors.
        try "# check=error=true\nFROM alpine:3.19\nUSER nobody\nCMD echo hi\n"
            .write(toFile: dir + "/Dockerfile.strict", atomically: true, encoding: .utf8)
        let escalated = try await slipway(["lint", "-f", dir + "/Dockerfile.strict", "--format", "json"])
        #expect(escalated.status == 1)
        #expect(escalated.stdout.contains("\"level\" : \"error\"") == true)
        let missing = try await slipway(["lint", "-f", dir + "/nope"])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("error: cannot read") == true)
    }

    /// analyze docker://REF pulls from a registry (Debian's docker-registry on 127.0.0.1) into a
    /// throw-away store; the user's store stays empty.
    @Test(.requires(TestRegistry.prerequisites + [.busybox]))
    func analyzePullsFromARegistry() async throws {
        let binary = Self.binary
        let dir = NSTemporaryDirectory() + "slipway-registry-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let registry = try await TestRegistry()

        // A small image: the busybox binary as one layer.
        let rootfs = dir + "/rootfs"
        try FileManager.default.createDirectory(atPath: rootfs + "/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: try #require(Host.executable("busybox")), toPath: rootfs + "/bin/busybox")
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/bin/tar")
        tar.arguments = ["-cf", dir + "/rootfs.tar", "-C", rootfs, "."]
        try tar.run()
        await Fixtures.waitOffPool(tar)
        let store = dir + "/store"
        let reference = "\(registry.host)/inspect/busybox:1"
        func run(_ arguments: [String]) async throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            await Fixtures.waitOffPool(process)
            return process.terminationStatus
        }
        #expect(try await run(["import", "--root", store, dir + "/rootfs.tar", reference]) == 0)
        // The registry is up when TestRegistry returns: one push must do.
        let pushed = try await run(["push", "--root", store, reference]) == 0
        #expect(pushed, "push to the test registry failed")
        try #require(pushed)
        let result = try await slipway(["analyze", "docker://" + reference])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Image: \(reference)"), "\(result.stdout)")
        #expect(result.stdout.contains("Layers (1)"))
    }
}
