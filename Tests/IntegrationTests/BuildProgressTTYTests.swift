import Foundation
import Testing
import TestSupport

/// `--progress auto` on a terminal: the live view (a redrawn "[+] Building" block with the running
/// step and the tail of its output), then finished-step lines and the result line. The build runs
/// under util-linux `script`, which gives it a pseudo-terminal and records what it drew.
@Suite("Build: tty progress", .requires(BuildHarness.requirements + [.script]))
struct BuildProgressTTYTests {
    @Test("a pseudo-terminal gets the live view; a pipe gets plain lines")
    func liveView() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("Dockerfile", """
            FROM busybox
            RUN for i in 1 2 3 4 5 6; do echo "tick $i"; sleep 0.2; done
            CMD ["true"]
            """)
        let typescript = s.root + "/typescript"
        let command = [BuildHarness.binary, "build", "--root", s.store, "-t", "tty:1", s.context]
            .map { "'\($0)'" }.joined(separator: " ")
        let r = try await BuildHarness.run(["/usr/bin/script", "-q", "-e", "-c", command, typescript],
                                     env: ["TERM": "xterm", "COLUMNS": "120"])
        #expect(r.status == 0, "\(r.combined)")
        let screen = try String(contentsOfFile: typescript, encoding: .utf8)
        #expect(screen.contains("[+] Building"), "live header drawn: \(screen.suffix(2000))")
        #expect(screen.contains("\u{1B}[J"), "the live block is erased before it is redrawn")
        #expect(screen.range(of: "\u{1B}\\[\\d+A", options: .regularExpression) != nil, "cursor moves up over the live block")
        #expect(screen.contains("tick 3"), "the running step's output tail is shown")
        #expect(screen.range(of: #" => \[[^\]]*2/2\] RUN for i in .* \d+\.\ds"#, options: .regularExpression) != nil,
                "a finished line with the step's time: \(screen.suffix(2000))")
        #expect(screen.contains("Built sha256:"), "result line")
        #expect(!screen.contains("#1 "), "no plain-mode step numbers on a terminal")

        // The same build through a pipe: plain mode, and a cache hit this time.
        let piped = try await s.build(["-t", "tty:1"])
        #expect(piped.status == 0)
        #expect(!piped.combined.contains("[+] Building") && !piped.combined.contains("\u{1B}["), "\(piped.combined)")
        #expect(piped.combined.contains("CACHED"))
    }
}
