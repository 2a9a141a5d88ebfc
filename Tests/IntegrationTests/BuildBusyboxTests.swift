import Foundation
import Testing

/// End-to-end `slipway build` of multi-stage Dockerfiles over a busybox base (fast).
@Suite("Build: busybox multi-stage", .serialized)
struct BuildBusyboxTests {
    static let dockerfile = """
        # syntax=docker/dockerfile:1
        ARG GREETING=hello
        FROM busybox AS builder
        ARG GREETING
        WORKDIR /src
        COPY hello.txt .
        RUN echo "$GREETING from $(cat hello.txt)" > /src/out.txt && echo built

        FROM busybox AS broken
        RUN echo this stage must never run && exit 1

        FROM busybox AS final
        ENV APP=demo
        COPY --from=builder /src/out.txt /app/out.txt
        USER app
        EXPOSE 8080
        CMD ["cat", "/app/out.txt"]
        """

    func sandbox() throws -> BuildSandbox? {
        if let why = BuildHarness.skipReason { print("skipping: \(why)"); return nil }
        let s = try BuildSandbox()
        try s.importFixture("busybox", as: "busybox:latest")
        try s.write("Dockerfile", Self.dockerfile)
        try s.write("hello.txt", "the context\n")
        return s
    }

    @Test("multi-stage build: unused stage never runs, result is tagged, exported and cached")
    func multiStage() throws {
        guard let s = try sandbox() else { return }
        let out = s.root + "/rootfs"
        let r = try s.build(["-t", "demo:1", "--output", "type=local,dest=\(out)"])
        #expect(r.status == 0, "\(r.combined)")
        #expect(!r.combined.contains("this stage must never run"))
        let text = try String(contentsOfFile: out + "/app/out.txt", encoding: .utf8)
        #expect(text == "hello from the context\n")
        #expect(r.stdout.contains("demo:1"), "last line names the tags: \(r.stdout)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")

        let images = try s.slipway(["images"])
        #expect(images.stdout.contains("demo"), "\(images.combined)")

        // No change: every step comes from the cache, no RUN executes.
        let again = try s.slipway(["build", "--progress", "json", "-t", "demo:1", s.context])
        #expect(again.status == 0, "\(again.combined)")
        #expect(BuildSandbox.ranSteps(again).filter { $0.contains("RUN") }.isEmpty, "\(again.stderr)")
        #expect(again.stdout.split(separator: "\n").last?.contains("demo:1") == true)
        let firstID = BuildSandbox.imageID(r)
        let secondID = BuildSandbox.imageID(again)
        #expect(firstID != nil && firstID == secondID, "a fully cached rebuild gives the same image ID")

        // Editing the source re-runs from the first COPY that reads it, not before.
        try s.write("hello.txt", "an edited context\n")
        let edited = try s.slipway(["build", "--progress", "json", s.context])
        #expect(edited.status == 0, "\(edited.combined)")
        let ran = BuildSandbox.ranSteps(edited)
        #expect(ran.contains { $0.contains("COPY hello.txt") }, "\(ran)")
        #expect(ran.contains { $0.contains("RUN echo") }, "\(ran)")
        #expect(!ran.contains { $0.contains("WORKDIR") }, "\(ran)")

        // touch alone is a cache hit.
        let now = Date()
        try FileManager.default.setAttributes([.modificationDate: now.addingTimeInterval(60)], ofItemAtPath: s.context + "/hello.txt")
        let touched = try s.slipway(["build", "--progress", "json", s.context])
        #expect(BuildSandbox.ranSteps(touched).filter { !$0.contains("FROM") }.isEmpty, "\(touched.stderr)")
    }

    @Test("--target selects the stage; a failing stage fails the build with line, command, code and output")
    func targetAndFailure() throws {
        guard let s = try sandbox() else { return }
        let ok = try s.build(["--target", "builder", "-t", "demo:builder"])
        #expect(ok.status == 0, "\(ok.combined)")

        let bad = try s.build(["--target", "broken"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("Dockerfile:10"), "\(bad.stderr)")
        #expect(bad.stderr.contains("exit 1"), "\(bad.stderr)")
        #expect(bad.stderr.contains("exited with code 1"), "\(bad.stderr)")
        #expect(bad.stderr.contains("this stage must never run"), "output tail: \(bad.stderr)")
        #expect(!bad.stderr.contains("Fatal error"))
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")

        let unknown = try s.build(["--target", "nope"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("nope"))
    }

    @Test("two independent stages run at the same time")
    func parallelStages() throws {
        guard let s = try sandbox() else { return }
        try s.write("Dockerfile", """
            FROM busybox AS a
            RUN sleep 2 && echo a > /a
            FROM busybox AS b
            RUN sleep 2 && echo b > /b
            FROM busybox
            COPY --from=a /a /a
            COPY --from=b /b /b
            """)
        let r = try s.slipway(["build", "--progress", "json", "--jobs", "2", s.context])
        #expect(r.status == 0, "\(r.combined)")
        var spans: [String: (Double, Double)] = [:]
        var ids: [Int: String] = [:]
        for e in BuildSandbox.events(r) {
            guard let step = e["step"] as? Int, let t = e["time"] as? Double else { continue }
            if e["event"] as? String == "started", let n = e["name"] as? String, n.contains("RUN sleep") {
                ids[step] = n
                spans[n] = (t, t)
            } else if e["event"] as? String == "finished", let n = ids[step] {
                spans[n]?.1 = t
            }
        }
        let v = Array(spans.values)
        #expect(v.count == 2, "\(r.stderr)")
        if v.count == 2 {
            #expect(v[0].0 < v[1].1 && v[1].0 < v[0].1, "RUN steps of stages a and b overlap: \(spans)")
        }
    }

    @Test("bad input: missing base, COPY of a missing file, unknown --from, invalid --build-arg; store and mounts clean")
    func badInput() throws {
        guard let s = try sandbox() else { return }
        let cases: [(String, [String], String)] = [
            ("FROM nosuch:1\nRUN true\n", [], "nosuch:1"),
            ("FROM busybox\nCOPY missing.txt /x\n", [], "missing.txt"),
            ("FROM busybox\nCOPY --from=nostage /x /x\n", [], "nostage"),
            ("FROM busybox\nRUN true\n", ["--build-arg", "=oops"], "--build-arg"),
        ]
        for (text, flags, needle) in cases {
            try s.write("Dockerfile", text)
            let r = try s.build(flags)
            #expect(r.status != 0, "\(text)")
            #expect(r.stderr.contains(needle), "\(text): \(r.stderr)")
            #expect(r.stderr.contains("error"), "\(r.stderr)")
            #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack"), "\(r.stderr)")
            #expect(s.leftovers().isEmpty, "\(text): \(s.leftovers())")
        }
        let fsck = try s.slipway(["fsck"])
        #expect(fsck.status == 0, "\(fsck.combined)")
    }

    @Test("Dockerfile from stdin, --build-arg, --label, --iidfile and image config")
    func flags() throws {
        guard let s = try sandbox() else { return }
        let iid = s.root + "/iid"
        let r = try s.slipway(["build", "--progress", "plain", "-f", "-", "--build-arg", "GREETING=hi", "--label", "org.test=yes",
                               "--iidfile", iid, "-t", "demo:flags", s.context], stdin: Self.dockerfile)
        #expect(r.status == 0, "\(r.combined)")
        let id = try String(contentsOfFile: iid, encoding: .utf8)
        #expect(id.hasPrefix("sha256:"))
        let inspect = try s.slipway(["inspect", "demo:flags"])
        #expect(inspect.stdout.contains("org.test"), "\(inspect.combined)")
        #expect(inspect.stdout.contains("8080/tcp"))
        #expect(inspect.stdout.contains("APP=demo"))
        let history = try s.slipway(["history", "--no-trunc", "demo:flags"])
        #expect(history.stdout.contains("COPY /src/out.txt /app/out.txt # buildkit"), "\(history.combined)")
    }
}
