import Foundation
import Testing
import TestSupport

/// The cache never serves another step's bytes: keys cover every input (the wave-1 collision
/// between a heredoc RUN and an escaped `\n`), the engine runs the frontend's RUN program (the
/// `RUN <<EOF cmd` form), records are tied to the content below them (an interrupted
/// `--no-cache` build or two builds at once never mix layers of different runs), `outline`
/// and `build` read ARG scope alike, and the host's CA bundle reaches RUN only when asked.
@Suite("Build: cache correctness", .serialized, .enabled(if: BuildHarness.skipReason == nil, "needs root, runc and a built slipway"))
struct BuildCacheCorrectnessTests {
    func sandbox(_ dockerfile: String) async throws -> BuildSandbox {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("Dockerfile", dockerfile)
        return s
    }

    func cat(_ s: BuildSandbox, _ image: String, _ paths: [String]) async throws -> String {
        let r = try await s.slipway(["run", "--rm", image, "cat"] + paths)
        #expect(r.status == 0, "\(r.combined)")
        return r.stdout
    }

    @Test("regression: `RUN <<EOF echo one > /r` and `RUN echo one > /r\\n` are different steps")
    func heredocAndEscapedNewline() async throws {
        let s = try await sandbox("FROM busybox\nRUN <<EOF\necho one > /r\nEOF\n")
        let a = try await s.build(["-t", "heredoc"])
        #expect(a.status == 0, "\(a.combined)")
        try s.write("Dockerfile", "FROM busybox\nRUN echo one > /r\\n\n")
        let b = try await s.build(["-t", "escaped"])
        #expect(b.status == 0, "\(b.combined)")
        #expect(!b.combined.contains("CACHED"), "the second RUN must not be served from the first one's record:\n\(b.combined)")
        let files = try await s.slipway(["run", "--rm", "escaped", "ls", "/"])
        #expect(files.stdout.split(separator: "\n").contains("rn"), "`> /r\\n` writes /rn in the shell: \(files.stdout)")
        #expect(!files.stdout.split(separator: "\n").contains("r"))
        #expect(try await cat(s, "heredoc", ["/r"]) == "one\n")
    }

    @Test("regression: `RUN <<EOF cat > /greeting` runs the command with the heredoc as its input")
    func heredocWithCommand() async throws {
        let s = try await sandbox("FROM busybox\nRUN <<EOF cat > /greeting\nhello\nEOF\nRUN <<-EOT sh\n\techo tabbed > /tabbed\n\tEOT\n")
        let r = try await s.build(["-t", "greet"])
        #expect(r.status == 0, "\(r.combined)")
        #expect(try await cat(s, "greet", ["/greeting", "/tabbed"]) == "hello\ntabbed\n")
    }

    static let randomThenCopy = """
        FROM busybox
        RUN head -c 100 /dev/urandom | sha256sum > /x
        RUN sleep 2; cp /x /y
        """

    /// Starts `slipway build --no-cache`, waits until the third step runs, then sends `signal`.
    func interruptDuringCopyStep(_ s: BuildSandbox, signal: Int32) async throws -> Bool {
        let log = s.root + "/interrupted-\(UUID().uuidString.prefix(6)).log"
        let args = ["build", "--progress", "plain", "--no-cache", "-t", "mix", s.context, "--root", s.store]
        return try await offPool {
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: BuildHarness.binary)
            p.arguments = args
            let out = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            p.standardOutput = out
            p.standardError = out
            p.standardInput = FileHandle.nullDevice
            try p.run()
            let deadline = Date().addingTimeInterval(60)
            var sent = false
            while p.isRunning, Date() < deadline {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                if text.contains("RUN sleep 2") {
                    usleep(300_000)
                    sent = p.isRunning && kill(p.processIdentifier, signal) == 0
                    break
                }
                usleep(20_000)
            }
            if p.isRunning && !sent { kill(p.processIdentifier, SIGKILL) }
            p.waitUntilExit()
            return sent
        }
    }

    @Test("an interrupted --no-cache build never leaves step 3 of one run on step 2 of another (3 rounds, SIGINT and SIGKILL)")
    func interruptedNoCacheBuild() async throws {
        let s = try await sandbox(Self.randomThenCopy)
        let first = try await s.build(["-t", "mix"])
        #expect(first.status == 0, "\(first.combined)")
        var interrupted = 0
        for signal in [SIGINT, SIGKILL, SIGINT] {
            if try await interruptDuringCopyStep(s, signal: signal) { interrupted += 1 }
            let again = try await s.build(["-t", "mix"])
            #expect(again.status == 0, "\(again.combined)")
            let r = try await s.slipway(["run", "--rm", "mix", "sh", "-c", "cmp /x /y && echo same"])
            #expect(r.stdout == "same\n", "/y must be the copy of the /x it was built on: \(r.combined)")
        }
        #expect(interrupted == 3, "every round was interrupted during the third step")
    }

    @Test("two identical --no-cache builds at once on one store each give a consistent image, and so does the next build (3 rounds)")
    func concurrentBuilds() async throws {
        let s = try await sandbox(Self.randomThenCopy)
        for round in 0..<3 {
            let (store, context) = (s.store, s.context)
            func build(_ tag: String) -> [String] {
                [BuildHarness.binary, "build", "--progress", "plain", "--no-cache", "-t", tag, context, "--root", store]
            }
            async let a = BuildHarness.run(build("a\(round)"))
            async let b = BuildHarness.run(build("b\(round)"))
            let (ra, rb) = try await (a, b)
            #expect(ra.status == 0 && rb.status == 0, "\(ra.combined)\n\(rb.combined)")
            let c = try await s.build(["-t", "c\(round)"])
            #expect(c.status == 0, "\(c.combined)")
            for image in ["a\(round)", "b\(round)", "c\(round)"] {
                let r = try await s.slipway(["run", "--rm", image, "sh", "-c", "cmp /x /y && echo same"])
                #expect(r.stdout == "same\n", "\(image): \(r.combined)")
            }
        }
    }

    @Test("outline's ARG values are the values the build used, ENV-before-ARG included (BuildKit's order)")
    func outlineAgreesWithBuild() async throws {
        let dockerfile = """
            ARG A=global
            ARG V=1
            FROM busybox AS one
            ENV A=env
            ARG A
            ARG V
            ARG B=${A}-${V}
            RUN echo "$A $B" > /seen
            FROM one
            ARG C=${B}-c
            RUN echo "$C" > /c
            """
        let s = try await sandbox(dockerfile)
        let outline = try await BuildHarness.run([BuildHarness.binary, "outline", "-f", s.context + "/Dockerfile", "--format", "json",
                                                  "--build-arg", "V=7"])
        #expect(outline.status == 0, "\(outline.combined)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(outline.stdout.utf8)) as? [String: Any])
        let stages = try #require(json["stages"] as? [[String: Any]])
        var values: [String: String] = [:]
        for st in stages {
            for a in (st["args"] as? [[String: Any]]) ?? [] {
                if let n = a["name"] as? String, let v = a["value"] as? String { values[n] = v }
            }
        }
        #expect(values["B"] == "global-7" && values["C"] == "global-7-c", "\(values)")
        let r = try await s.build(["--build-arg", "V=7", "-t", "scoped"])
        #expect(r.status == 0, "\(r.combined)")
        #expect(try await cat(s, "scoped", ["/seen", "/c"]) == "global \(values["B"] ?? "?")\n\(values["C"] ?? "?")\n")
    }

    @Test("the host's CA bundle reaches RUN only with --add-ca-bundle, and the flag is part of the key")
    func hostCABundleOnlyWhenAsked() async throws {
        let host = "/etc/ssl/certs/ca-certificates.crt"
        let hostSize = try #require(try FileManager.default.attributesOfItem(atPath: host)[.size] as? Int)
        let s = try await sandbox("""
            FROM busybox
            RUN mkdir -p /etc/ssl/certs && echo image-bundle > /etc/ssl/certs/ca-certificates.crt
            RUN wc -c < /etc/ssl/certs/ca-certificates.crt > /size
            """)
        let plain = try await s.build(["-t", "ca"])
        #expect(plain.status == 0, "\(plain.combined)")
        #expect(try await cat(s, "ca", ["/size"]).trimmingCharacters(in: .whitespacesAndNewlines) == "13",
                "without the flag RUN sees the image's own bundle")
        let asked = try await s.build(["--add-ca-bundle", "-t", "ca-host"])
        #expect(asked.status == 0, "\(asked.combined)")
        #expect(!asked.combined.contains("CACHED"), "the flag is in every RUN's key:\n\(asked.combined)")
        #expect(try await cat(s, "ca-host", ["/size"]).trimmingCharacters(in: .whitespacesAndNewlines) == String(hostSize))
    }
}
