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

    @Test("the live view fits the terminal's real width (TIOCGWINSZ), else $COLUMNS")
    func fitsTheTerminalWidth() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:1.36")
        let long = String(repeating: "wide", count: 40)
        try s.write("Dockerfile", """
            FROM busybox:1.36
            RUN for i in 1 2 3 4 5 6; do echo "tick $i \(long)"; sleep 0.2; done; echo \(long) > /long
            USER 65534
            CMD ["true"]
            """)
        let typescript = s.root + "/typescript"
        let build = [BuildHarness.binary, "build", "--root", s.store, s.context].map { "'\($0)'" }.joined(separator: " ")

        /// The rows the terminal would show: escape sequences removed, split at line ends and
        /// carriage returns; the result line (stdout, an ID to copy whole) and script's own
        /// header and footer left out. (The Dockerfile has no check warnings: those are whole
        /// messages, left to wrap.)
        func rows() throws -> [String] {
            let screen = try String(contentsOfFile: typescript, encoding: .utf8)
                .replacingOccurrences(of: "\u{1B}\\[[0-9;?]*[A-Za-z]", with: "", options: .regularExpression)
            return screen.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }).map(String.init)
                .filter { !$0.hasPrefix("Built sha256:") && !$0.hasPrefix("Script started on ") && !$0.hasPrefix("Script done on ") }
        }

        // The pty is 80 columns wide; $COLUMNS says otherwise and loses.
        let sized = try await BuildHarness.run(["/usr/bin/script", "-q", "-e", "-c", "stty cols 80 rows 24; exec " + build, typescript],
                                               env: ["TERM": "xterm", "COLUMNS": "200"])
        #expect(sized.status == 0, "\(sized.combined)")
        let wide = try rows()
        #expect(wide.contains { $0.contains("tick 3 wide") }, "the output tail is drawn: \(wide.suffix(20))")
        #expect(wide.contains { $0.hasPrefix(" => [2/2] RUN for i in") }, "\(wide.suffix(20))")
        let tooLong = wide.filter { $0.count > 80 }
        #expect(tooLong.isEmpty, "rows longer than the 80-column terminal: \(tooLong)")
        #expect(wide.contains { $0.count >= 70 }, "long lines are cut at the width, not far short of it: \(wide.suffix(10))")

        // A pty that reports no size (script without a terminal of its own): $COLUMNS.
        let unsized = try await BuildHarness.run(["/usr/bin/script", "-q", "-e", "-c", build + " --no-cache", typescript],
                                                 env: ["TERM": "xterm", "COLUMNS": "50"])
        #expect(unsized.status == 0, "\(unsized.combined)")
        let narrow = try rows()
        #expect(narrow.contains { $0.contains("tick 3 wide") }, "\(narrow.suffix(20))")
        let overNarrow = narrow.filter { $0.count > 50 }
        #expect(overNarrow.isEmpty, "rows longer than $COLUMNS=50: \(overNarrow)")

        // The window shrinks to 40 columns mid-build (SIGWINCH): what is drawn after it fits.
        // (The resize comes 0.2 s in; "tick 6" is printed a second after the RUN started, and
        // the step's finished line last.)
        let resize = "stty cols 80 rows 24; (sleep 0.2; stty -F /dev/tty cols 40) & exec " + build + " --no-cache"
        let resized = try await BuildHarness.run(["/usr/bin/script", "-q", "-e", "-c", resize, typescript],
                                                 env: ["TERM": "xterm", "COLUMNS": "200"])
        #expect(resized.status == 0, "\(resized.combined)")
        let after = try rows()
        let late = after.filter { $0.contains("tick 6") } + after.filter { $0.hasPrefix(" => [2/2] RUN") }.suffix(1)
        #expect(late.contains { $0.contains("tick 6") }, "\(late)")
        #expect(late.allSatisfy { $0.count <= 40 }, "rows drawn after the resize to 40 columns: \(late)")
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
