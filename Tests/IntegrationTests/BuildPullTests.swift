import Foundation
import Testing

/// FROM an image that is only in a registry: the build pulls it (Debian's docker-registry on
/// 127.0.0.1), and `--pull` refreshes a stored base from its registry.
@Suite("Build: base images from a registry", .serialized)
struct BuildPullTests {
    /// A throwaway docker-registry on a free port.
    final class Registry {
        let dir: String
        let port: Int
        let process = Process()

        init() async throws {
            dir = "/var/tmp/slipway-it-registry-" + UUID().uuidString.prefix(8).lowercased()
            port = 31_000 + Int.random(in: 0..<4000)
            try FileManager.default.createDirectory(atPath: dir + "/data", withIntermediateDirectories: true)
            try """
                version: 0.1
                log:
                  level: error
                  accesslog:
                    disabled: true
                storage:
                  filesystem:
                    rootdirectory: \(dir)/data
                http:
                  addr: 127.0.0.1:\(port)
                """.write(toFile: dir + "/config.yml", atomically: true, encoding: .utf8)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/docker-registry")
            process.arguments = ["serve", dir + "/config.yml"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let url = "http://127.0.0.1:\(port)/v2/"
            let up = await Fixtures.poll(seconds: 15, every: 0.2) {
                (try? BuildHarness.runBlocking(["/usr/bin/curl", "-fsS", url]))?.status == 0 ? true : nil
            }
            if up == true { return }
            throw HarnessError.failed("docker-registry did not start on port \(port)")
        }

        deinit {
            Fixtures.killInBackground(process)
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    @Test("a base image only in the registry is pulled; --pull refreshes it; unreachable registries fail clearly")
    func pullBase() async throws {
        if let why = BuildHarness.skipReason { print("skipping: \(why)"); return }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/docker-registry") else {
            print("skipping: docker-registry not installed")
            return
        }
        let registry = try await Registry()
        let source = try BuildSandbox()
        try await source.importFixture("busybox", as: "busybox:latest")
        let ref = "127.0.0.1:\(registry.port)/base/busybox:1"
        let push = try await source.slipway(["push", "busybox:latest", ref])
        #expect(push.status == 0, "\(push.combined)")

        let s = try BuildSandbox()   // an empty store
        try s.write("Dockerfile", "FROM \(ref)\nRUN echo pulled-base-works > /ok\n")
        let r = try await s.build(["-t", "pulled:1"])
        #expect(r.status == 0, "\(r.combined)")
        #expect(r.stderr.contains("pulling \(ref)"), "\(r.stderr)")
        #expect(r.stderr.contains("pulled-base-works"), "\(r.stderr)")

        // --pull fetches again even though the store has it now; the result is the same image.
        let again = try await s.build(["--pull", "-t", "pulled:1"])
        #expect(again.status == 0, "\(again.combined)")
        #expect(again.stderr.contains("pulling \(ref)"), "\(again.stderr)")
        #expect(BuildSandbox.imageID(again) == BuildSandbox.imageID(r))

        try s.write("Dockerfile", "FROM 127.0.0.1:1/nothing/here:1\nRUN true\n")
        let bad = try await s.build([])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("error:"), "\(bad.stderr)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }
}
