import Foundation
import Testing
import TestSupport

/// Issue 18 #7 through the built binary: the doubling-ARG Dockerfile (1.4 KB; unbounded it took
/// `build` 28 s and 2.1 GB) fails at once, in bounded memory, with the file, the line and the
/// limit, for `outline`, `lint` and `build` alike.
@Suite struct ExpansionLimitCLITests {
    /// CPU time and peak memory of the child, measured by GNU time: wall time on this shared
    /// 2-core machine measures the neighbours.
    static let requirements: [Prerequisite] = [.slipwayBinary, .executable(at: "/usr/bin/time", package: "time")]

    @Test(.requires(Self.requirements)) func doublingArgsFailFast() async throws {
        let bin = Fixtures.slipwayBinary
        let dir = try Fixtures.scratch("expansion-limit")
        defer { Fixtures.removeScratch(dir) }
        var lines = ["ARG A0=xxxxxxxx"]
        for i in 1...22 { lines.append("ARG A\(i)=${A\(i - 1)}${A\(i - 1)}") }
        lines += ["FROM scratch", "ARG A22", "COPY . /"]
        let file = dir + "/Dockerfile.big"
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        for args in [["outline", "-f", file], ["lint", "-f", file], ["build", "--root", dir + "/store", "-f", file, dir]] {
            let r = try await Fixtures.run("/usr/bin/time", ["-f", "resources %U %S %M", bin] + args)
            let usage = r.stderr.split(separator: "\n").last { $0.hasPrefix("resources ") }?.split(separator: " ") ?? []
            try #require(usage.count == 4, "no GNU time line: \(r.stderr)")
            let cpu = (Double(usage[1]) ?? 99) + (Double(usage[2]) ?? 99)
            let peakMiB = (Double(usage[3]) ?? 1e9) / 1024
            let output = r.stdout + r.stderr
            #expect(r.status != 0, "\(args[0]) succeeded: \(output)")
            #expect(output.contains("Dockerfile.big:19"), "\(args[0]): \(output)")
            #expect(output.contains("larger than 1 MiB (1048576 bytes), the limit for one expanded word"), "\(args[0]): \(output)")
            // Unbounded, `outline` took 4.2 s of CPU and 272 MiB here (debug build); `build` GBs.
            #expect(cpu < 3, "\(args[0]) took \(cpu) s of CPU")
            #expect(peakMiB < 150, "\(args[0]) peaked at \(peakMiB) MiB")
        }
    }

    /// Issue 18 #10: a 9,000-character word is quoted once, abbreviated, in a short error that
    /// names the file and line — for an unknown instruction and for a FROM name (which had no line).
    @Test(.requires(.slipwayBinary)) func longWordsMakeShortErrors() async throws {
        let bin = Fixtures.slipwayBinary
        let dir = try Fixtures.scratch("long-word")
        defer { Fixtures.removeScratch(dir) }
        let word = String(repeating: "abcdefgh", count: 1_125)
        let cases = [("Dockerfile.instr", "FROM scratch\nFOO\(word) x\n", "Dockerfile.instr:2"),
                     ("Dockerfile.from", "FROM a\(word)\n", "Dockerfile.from:1")]
        for (name, text, location) in cases {
            try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
            let r = try await Fixtures.run(bin, ["build", "--root", dir + "/store", "--progress", "plain", "-f", dir + "/" + name, dir])
            #expect(r.status != 0)
            let last = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
            #expect(last.hasPrefix("error: \(location): "), "\(last)")
            #expect(last.utf8.count < 400, "\(last.utf8.count) bytes: \(last.prefix(300))")
            #expect(r.stderr.utf8.count < 1_500, "stderr has \(r.stderr.utf8.count) bytes")
        }
    }
}
