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

        // NO_COLOR: the same live view without colours (cursor movement only).
        // (An empty NO_COLOR means colours, as no-color.org says; the test's own environment may set it.)
        let colored = try await BuildHarness.run(["/usr/bin/script", "-q", "-e", "-c", command, typescript],
                                                 env: ["TERM": "xterm", "COLUMNS": "120", "NO_COLOR": ""])
        #expect(colored.status == 0)
        let coloredScreen = try String(contentsOfFile: typescript, encoding: .utf8)
        #expect(coloredScreen.contains("\u{1B}[34m => CACHED"), "a cache hit is blue by default: \(coloredScreen.suffix(800))")
        let plainTTY = try await BuildHarness.run(["/usr/bin/script", "-q", "-e", "-c", command, typescript],
                                                  env: ["TERM": "xterm", "COLUMNS": "120", "NO_COLOR": "1"])
        #expect(plainTTY.status == 0)
        let noColor = try String(contentsOfFile: typescript, encoding: .utf8)
        #expect(noColor.contains(" => CACHED") && noColor.range(of: "\u{1B}\\[[0-9;]*m", options: .regularExpression) == nil,
                "no SGR colour codes with NO_COLOR: \(noColor.suffix(600))")
    }

    @Test("--progress rawjson prints BuildKit's SolveStatus: vertexes with times, logs in base64")
    func rawJSON() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("Dockerfile", "FROM busybox\nRUN echo hello-raw\n")
        let r = try await s.slipway(["build", "--progress", "rawjson", s.context])
        #expect(r.status == 0, "\(r.combined)")
        let lines = r.stderr.split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        // Only JSON on stderr: the checks' summary (this Dockerfile has warnings) stays out.
        #expect(objects.count == lines.count, "\(r.stderr.prefix(800))")
        #expect(!objects.isEmpty && objects.allSatisfy { $0["vertexes"] is [Any] && $0["logs"] is [Any] }, "\(r.stderr.prefix(600))")
        let vertexes = objects.flatMap { ($0["vertexes"] as? [[String: Any]]) ?? [] }
        #expect(vertexes.contains { ($0["name"] as? String)?.contains("RUN echo hello-raw") == true && $0["completed"] is String
                                    && ($0["digest"] as? String)?.hasPrefix("sha256:") == true })
        let logs = objects.flatMap { ($0["logs"] as? [[String: Any]]) ?? [] }
        let text = logs.compactMap { ($0["data"] as? String).flatMap { Data(base64Encoded: $0) } }.map { String(decoding: $0, as: UTF8.self) }
        #expect(text.contains("hello-raw\n"), "\(logs)")
    }
}
