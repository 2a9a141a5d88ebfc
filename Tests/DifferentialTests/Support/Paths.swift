import Foundation

/// Where the suite's inputs and the programs it drives are.
enum Paths {
    /// The package root, from this file's path (Tests/DifferentialTests/Support/…).
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    static var suite: String { packageRoot + "/Tests/DifferentialTests" }
    /// One directory per Dockerfile case.
    static var cases: String { suite + "/Cases" }
    /// One directory per article example (context files; the Dockerfile comes from TestSupport).
    static var examples: String { suite + "/Examples" }
    static var rules: String { suite + "/IntendedDifferences.json" }
    static var sessionScript: String { suite + "/Support/dockerd-session.sh" }
    static var slipway: String { packageRoot + "/.build/debug/slipway" }
    static var fixtures: String { packageRoot + "/scripts/fixtures.sh" }

    /// Why the suite cannot run here, or nil when it can.
    static var missingPrerequisite: String? {
        if getuid() != 0 { return "the differential tests need root (dockerd, overlayfs, runc)" }
        if !DockerDaemon.isInstalled { return "docker.io is not installed (\(DockerDaemon.cli), \(DockerDaemon.daemon))" }
        if !FileManager.default.isExecutableFile(atPath: slipway) { return "\(slipway) is not built" }
        if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/runc") { return "runc is not installed" }
        return nil
    }
}
