import Foundation
import Testing
import TestSupport

/// `slipway run` with a command the image cannot execute: Docker's exit statuses (127 missing,
/// 126 not executable) and a short `exec: "…": …` message, not the runtime's log line.
@Suite("Run: exec errors", .requires(BuildHarness.requirements))
struct RunExecErrorsTests {
    @Test("a missing command exits 127, a non-executable one 126, each with docker's message")
    func missingAndNotExecutable() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")

        let missing = try await s.slipway(["run", "--rm", "busybox", "nosuch"])
        #expect(missing.status == 127, "\(missing.combined)")
        #expect(missing.stderr.contains(#"error: exec: "nosuch": executable file not found in $PATH"#), "\(missing.combined)")
        #expect(!missing.combined.contains("level=error"), "not the runtime's log line: \(missing.combined)")

        let absent = try await s.slipway(["run", "--rm", "busybox", "/no/such"])
        #expect(absent.status == 127, "\(absent.combined)")
        #expect(absent.stderr.contains(#"error: exec: "/no/such": stat /no/such: no such file or directory"#), "\(absent.combined)")

        let plain = try await s.slipway(["run", "--rm", "busybox", "/etc/passwd"])
        #expect(plain.status == 126, "\(plain.combined)")
        #expect(plain.stderr.contains(#"error: exec: "/etc/passwd": permission denied"#), "\(plain.combined)")
        #expect(!plain.combined.contains("level=error"), "\(plain.combined)")

        let directory = try await s.slipway(["run", "--rm", "--entrypoint", "/etc", "busybox"])
        #expect(directory.status == 126, "a directory is not executable: \(directory.combined)")

        // Found through the image's PATH (and a symlink inside the image), or relative to -w.
        let found = try await s.slipway(["run", "--rm", "busybox", "sh", "-c", "echo found; exit 3"])
        #expect(found.status == 3 && found.stdout == "found\n", "\(found.combined)")
        let relative = try await s.slipway(["run", "--rm", "-w", "/bin", "busybox", "./sh", "-c", "echo here"])
        #expect(relative.status == 0 && relative.stdout == "here\n", "\(relative.combined)")
        // A PATH without the program's directory: not found, as in the container.
        let narrowed = try await s.slipway(["run", "--rm", "-e", "PATH=/nowhere", "busybox", "sh"])
        #expect(narrowed.status == 127, "\(narrowed.combined)")
    }
}
