import Foundation
import Testing
import TestSupport

/// `slipway debug parse --json` and `slipway outline --format json` through the built binary: the
/// shapes documented in ../shared/formats/parse-json.md, and a bad file exits non-zero with its line.
@Suite(.requires(.slipwayBinary)) struct DebugParseCLITests {
    static let dockerfile = """
        # syntax=docker/dockerfile:1
        FROM --platform=$BUILDPLATFORM golang:${GO} AS build
        RUN --mount=type=cache,target=/root/.cache <<EOF
        echo hi
        echo there
        EOF
        ONBUILD RUN echo x
        ENV A=1 B="two words"
        FROM scratch
        COPY --from=build /a /b

        """

    func write(_ text: String) throws -> (dir: String, file: String) {
        let dir = try Fixtures.scratch("parse")
        let file = dir + "/Dockerfile"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return (dir, file)
    }

    /// Issue 18 #10: the JSON of a large Dockerfile is written as it is made, not built whole
    /// first (a 50 MB file took 1.4 GB). 5 MB of RUN lines; the old renderer peaked near 180 MB,
    /// 35x the input; the streamed one stays near 10x. Peak RSS of the child comes from
    /// python3's getrusage(RUSAGE_CHILDREN), so no timing is involved.
    @Test(.requires(.python3)) func parseJSONOfALargeDockerfileStreams() async throws {
        let (dir, file) = try write("FROM busybox\n")
        defer { Fixtures.removeScratch(dir) }
        let line = "RUN echo some words to make the line longer && true\n"
        let body = String(repeating: line, count: 5_000_000 / line.utf8.count)
        try ("FROM busybox\n" + body).write(toFile: file, atomically: true, encoding: .utf8)
        let r = try await Fixtures.run("/usr/bin/python3", ["-c", """
            import subprocess, resource, sys
            p = subprocess.run([sys.argv[1], "debug", "parse", "--json", sys.argv[2]], stdout=subprocess.PIPE)
            n = p.stdout.count(b'"cmd": "RUN"')
            print(p.returncode, n, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            """, Fixtures.slipwayBinary, file])
        let fields = r.stdout.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        try #require(fields.count == 3, "\(r.stdout)\(r.stderr)")
        #expect(fields[0] == 0)
        #expect(fields[1] == 5_000_000 / line.utf8.count)
        #expect(fields[2] < 100_000, "peak RSS \(fields[2]) KiB for a 5 MB Dockerfile")
    }

    @Test func parseJSONHasInstructionsStagesAndReferences() async throws {
        let bin = Fixtures.slipwayBinary
        let (dir, file) = try write(Self.dockerfile)
        defer { Fixtures.removeScratch(dir) }
        let r = try await Fixtures.run(bin, ["debug", "parse", "--json", file])
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let ins = try #require(doc["instructions"] as? [[String: Any]])
        #expect(ins.map { $0["cmd"] as? String } == ["FROM", "RUN", "ONBUILD", "ENV", "FROM", "COPY"])
        #expect(ins[0]["flags"] as? [String] == ["--platform=$BUILDPLATFORM"])
        #expect(ins[0]["value"] as? [String] == ["golang:${GO}", "AS", "build"])
        #expect(ins[1]["start_line"] as? Int == 3 && ins[1]["end_line"] as? Int == 6)
        let heredocs = try #require(ins[1]["heredocs"] as? [[String: Any]])
        #expect(heredocs.first?["name"] as? String == "EOF")
        #expect(heredocs.first?["content"] as? String == "echo hi\necho there\n")
        #expect(ins[2]["sub_cmd"] as? String == "RUN")
        #expect(ins[3]["value"] as? [String] == ["A", "1", "B", "\"two words\""])
        let stages = try #require(doc["stages"] as? [[String: Any]])
        #expect(stages.count == 2)
        #expect(stages[0]["name"] as? String == "build" && stages[0]["platform"] as? String == "$BUILDPLATFORM")
        #expect(stages[0]["instruction_count"] as? Int == 3)
        let refs = try #require(doc["references"] as? [[String: Any]])
        #expect(refs.contains { $0["kind"] as? String == "copy_from" && $0["target"] as? Int == 0 && $0["line"] as? Int == 10 })
    }

    @Test func invalidFileExitsNonZeroNamingTheLine() async throws {
        let bin = Fixtures.slipwayBinary
        let (dir, file) = try write("FROM busybox\nRUN <<EOF\necho never ends\n")
        defer { Fixtures.removeScratch(dir) }
        let r = try await Fixtures.run(bin, ["debug", "parse", "--json", file])
        #expect(r.status != 0)
        #expect(r.stderr.contains(":2") || r.stdout.contains("\"error\""), "\(r.stderr) \(r.stdout)")
    }

    @Test func outlineJSONListsStagesForTheTarget() async throws {
        let bin = Fixtures.slipwayBinary
        let (dir, file) = try write("""
            ARG V=1
            FROM scratch AS a
            FROM scratch AS b
            FROM a AS final

            """)
        defer { Fixtures.removeScratch(dir) }
        let r = try await Fixtures.run(bin, ["outline", "-f", file, "--target", "final", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"final\"") && r.stdout.contains("\"b\""), "\(r.stdout)")
        let bad = try await Fixtures.run(bin, ["outline", "-f", file, "--target", "nope"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("a") && bad.stderr.contains("final"), "\(bad.stderr)")
    }
}
