import Foundation
import Testing
import TestSupport

/// WORKDIR through a symlink in the image (dangling, absolute, climbing with `..`) creates the
/// directory inside the root filesystem, as BuildKit does, and never touches the host.
@Suite("Build: WORKDIR under symlinks", .requires(BuildHarness.requirements))
struct BuildWorkdirSymlinkTests {
    @Test("WORKDIR under a dangling or escaping symlink is made inside the rootfs, not on the host")
    func workdirUnderSymlinks() async throws {
        let escape = "/tmp/slipway-workdir-escape-" + UUID().uuidString.prefix(8).lowercased()
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("Dockerfile", """
            FROM busybox
            RUN ln -s /nonexistent/deep /app && ln -s ../../../..\(escape) /esc
            WORKDIR /app
            RUN test -d /nonexistent/deep && echo inside > /pwd
            WORKDIR /esc/sub
            RUN test -d \(escape)/sub && echo confined >> /pwd
            """)
        let r = try await s.build(["-t", "wd"])
        #expect(r.status == 0, "\(r.combined)")
        #expect(!FileManager.default.fileExists(atPath: escape), "WORKDIR wrote on the host")
        let out = try await s.slipway(["run", "--rm", "wd", "cat", "/pwd"])
        #expect(out.stdout == "inside\nconfined\n", "\(out.combined)")
    }
}
