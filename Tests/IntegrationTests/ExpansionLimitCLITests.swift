import Foundation
import Testing

/// Issue 18 #7 through the built binary: the doubling-ARG Dockerfile (1.4 KB; unbounded it took
/// `build` 28 s and 2.1 GB) fails in seconds with the file, the line and the limit, for
/// `outline`, `lint` and `build` alike.
@Suite struct ExpansionLimitCLITests {
    static var ready: Bool { Fixtures.slipwayBinary != nil }

    @Test(.enabled(if: ready)) func doublingArgsFailFast() async throws {
        let bin = Fixtures.slipwayBinary!
        let dir = try Fixtures.scratch("expansion-limit")
        defer { Fixtures.removeScratch(dir) }
        var lines = ["ARG A0=xxxxxxxx"]
        for i in 1...22 { lines.append("ARG A\(i)=${A\(i - 1)}${A\(i - 1)}") }
        lines += ["FROM scratch", "ARG A22", "COPY . /"]
        let file = dir + "/Dockerfile.big"
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        for args in [["outline", "-f", file], ["lint", "-f", file], ["build", "--root", dir + "/store", "-f", file, dir]] {
            let start = Date()
            let r = try await Fixtures.run(bin, args)
            let seconds = Date().timeIntervalSince(start)
            let output = r.stdout + r.stderr
            #expect(r.status != 0, "\(args[0]) succeeded: \(output)")
            #expect(output.contains("Dockerfile.big:19"), "\(args[0]): \(output)")
            #expect(output.contains("larger than 1 MiB (1048576 bytes), the limit for one expanded word"), "\(args[0]): \(output)")
            #expect(seconds < 10, "\(args[0]) took \(seconds) s")
        }
    }
}
