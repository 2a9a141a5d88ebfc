import Foundation
import Testing
import TestSupport

/// `slipway login/logout/push/pull` end to end through the binary, against a docker-registry
/// with htpasswd Basic auth on 127.0.0.1 and a private DOCKER_CONFIG.
@Suite("Registry CLI: login, push, pull, logout", .serialized, .requires(BuildHarness.requirements + TestRegistry.prerequisites + [.htpasswd]))
struct RegistryCLITests {
    @Test("login stores working credentials in DOCKER_CONFIG; push/pull use them; logout removes them")
    func loginPushPullLogout() async throws {
        let dir = "/var/tmp/slipway-it-login-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let htpasswd = try await BuildHarness.run(["/usr/bin/htpasswd", "-Bbn", "ci", "s3cret"])
        try #require(htpasswd.status == 0)
        try htpasswd.stdout.write(toFile: dir + "/htpasswd", atomically: true, encoding: .utf8)
        let registry = try await TestRegistry(htpasswd: dir + "/htpasswd")
        let host = registry.host

        let env = ["DOCKER_CONFIG": dir + "/docker"]
        let storeA = dir + "/storeA", storeB = dir + "/storeB"
        func slipway(_ args: [String], stdin: String? = nil) async throws -> BuildHarness.Result {
            try await BuildHarness.run([BuildHarness.binary] + args, env: env, stdin: stdin)
        }
        let fixture = try await BuildHarness.fixture("busybox")
        let tar = dir + "/rootfs.tar"
        try #require(try await BuildHarness.run(["/bin/tar", "-C", fixture, "-cf", tar, "."]).status == 0)
        try #require(try await slipway(["import", "--root", storeA, tar, "\(host)/team/bb:1"]).status == 0)

        let anonymous = try await slipway(["push", "--root", storeA, "\(host)/team/bb:1"])
        #expect(anonymous.status != 0)
        #expect(anonymous.stderr.hasPrefix("error: not authorized") && anonymous.stderr.contains("slipway login"), "\(anonymous.stderr)")

        let wrong = try await slipway(["login", "-u", "ci", "--password-stdin", host], stdin: "nope\n")
        #expect(wrong.status != 0 && wrong.stderr.contains("error:"), "\(wrong.combined)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/docker/config.json"))

        let login = try await slipway(["login", "-u", "ci", "--password-stdin", host], stdin: "s3cret\n")
        #expect(login.status == 0, "\(login.combined)")
        let config = try String(contentsOfFile: dir + "/docker/config.json", encoding: .utf8)
        #expect(config.contains(Data("ci:s3cret".utf8).base64EncodedString()))

        let push = try await slipway(["push", "--root", storeA, "\(host)/team/bb:1"])
        #expect(push.status == 0, "\(push.combined)")
        let pull = try await slipway(["pull", "--root", storeB, "\(host)/team/bb:1"])
        #expect(pull.status == 0, "\(pull.combined)")
        #expect(pull.stdout.contains("Status: Downloaded newer image"), "\(pull.stdout)")
        let images = try await slipway(["images", "--root", storeB])
        #expect(images.stdout.contains("\(host)/team/bb"), "\(images.stdout)")
        // RepoDigests: where the image was pushed (store A) or pulled from (store B), and only there.
        let digest = pull.stdout.split(separator: "\n").first { $0.hasPrefix("Digest: ") }.map { String($0.dropFirst(8)) } ?? "?"
        for store in [storeA, storeB] {
            let seen = try await slipway(["inspect", "--root", store, "-f", "{{json .RepoDigests}}", "\(host)/team/bb:1"])
            #expect(seen.stdout == "[\"\(host)/team/bb@\(digest)\"]\n", "\(store): \(seen.combined)")
        }
        #expect(try await slipway(["tag", "--root", storeB, "\(host)/team/bb:1", "local/only:1"]).status == 0)
        let tagged = try await slipway(["inspect", "--root", storeB, "-f", "{{len .RepoDigests}}", "local/only:1"])
        #expect(tagged.stdout == "1\n", "a new local tag adds no repo digest: \(tagged.combined)")
        let wrongPlatform = try await slipway(["pull", "--root", storeB, "--platform", "linux/s390x", "\(host)/team/bb:1"])
        #expect(wrongPlatform.status != 0 && wrongPlatform.stderr.contains("linux/s390x"), "\(wrongPlatform.combined)")

        let logout = try await slipway(["logout", host])
        #expect(logout.status == 0 && logout.stdout.contains("Removed"), "\(logout.combined)")
        let after = try await slipway(["pull", "--root", dir + "/storeC", "\(host)/team/bb:1"])
        #expect(after.status != 0 && after.stderr.contains("not authorized"), "\(after.combined)")
    }
}
