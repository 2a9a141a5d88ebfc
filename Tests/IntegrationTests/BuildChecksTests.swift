import Foundation
import Testing
import TestSupport

/// `build` runs the build checks on the parse it builds: BuildKit's warning summary,
/// `# check=error=true` failing before any step, `# check=skip=`, `--check`/`--call=check`, and
/// `lint -f -`.
@Suite("Build checks in the build", .serialized, .requires(BuildHarness.requirements))
struct BuildChecksTests {
    @Test func checksInTheBuild() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("Dockerfile", "FROM busybox as base\nRUN echo hi > /hi\nCMD echo hi\n")
        let warned = try await s.build(["-t", "checked:1"])
        #expect(warned.status == 0, "\(warned.combined)")
        #expect(warned.stderr.contains("warnings found"), "\(warned.stderr)")
        #expect(warned.stderr.contains(" - FromAsCasing:") && warned.stderr.contains("(Dockerfile:1)"), "\(warned.stderr)")
        #expect(warned.stderr.contains(" - JSONArgsRecommended:") && warned.stderr.contains("(Dockerfile:3)"), "\(warned.stderr)")

        // error=true: the build stops before any step runs, naming the rule and the line.
        try s.write("Dockerfile", "# check=error=true\nFROM busybox as base\nRUN echo never > /n\n")
        let failed = try await s.build(["-t", "checked:2"])
        #expect(failed.status != 0, "\(failed.combined)")
        #expect(failed.stderr.contains("Dockerfile:2: FromAsCasing"), "\(failed.stderr)")
        #expect(!failed.stderr.contains("RUN echo never"), "no step may start: \(failed.stderr)")
        #expect(try await !s.hasImage("checked:2"))

        // skip= silences a rule; error=true then has nothing to fail on.
        try s.write("Dockerfile", "# check=error=true;skip=FromAsCasing\nFROM busybox as base\nRUN echo ok > /ok\nCMD [\"true\"]\nUSER nobody\n")
        let skipped = try await s.build(["-t", "checked:3"])
        #expect(skipped.status == 0 && !skipped.stderr.contains("FromAsCasing"), "\(skipped.combined)")

        // --check and --call=check lint and exit without building.
        try s.write("Dockerfile", "FROM busybox as base\nCMD echo hi\n")
        let check = try await s.slipway(["build", "--check", "-t", "checked:4", s.context])
        #expect(check.status == 1 && check.stdout.contains("FromAsCasing") && check.stdout.contains("warnings have been found!"), "\(check.combined)")
        #expect(try await !s.hasImage("checked:4"))
        try s.write("Dockerfile", "FROM busybox:latest AS base\nUSER nobody\nCMD [\"true\"]\n")
        let clean = try await s.slipway(["build", "--call=check", "-t", "checked:5", s.context])
        #expect(clean.stdout.contains("Check complete"), "\(clean.combined)")
        #expect(try await !s.hasImage("checked:5"))

        // What the build refuses, lint reports: COPY --from its own stage.
        try s.write("Dockerfile", "FROM busybox AS app\nCOPY --from=app /bin/sh /sh2\n")
        let lint = try await BuildHarness.run([BuildHarness.binary, "lint", "-f", "-"], stdin: "FROM busybox AS app\nCOPY --from=app /bin/sh /sh2\n")
        #expect(lint.status == 1 && lint.stdout.contains("CopyFromOwnStage"), "\(lint.combined)")
        let build = try await s.build([])
        #expect(build.status != 0, "\(build.combined)")
    }

    @Test("build --check runs ShellCheck on RUN scripts and names the Dockerfile line", .requires(.shellcheck))
    func shellCheckInBuildCheck() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("Dockerfile", "FROM busybox\nUSER nobody\nRUN cp $SRC /tmp/dst\nCMD [\"true\"]\n")
        let check = try await s.slipway(["build", "--check", s.context])
        #expect(check.status == 1, "\(check.combined)")
        #expect(check.stdout.contains("SC2086") && check.stdout.contains("Dockerfile:3"), "\(check.combined)")
        // The build itself does not run ShellCheck (only --check and lint do): it builds.
        try s.write("Dockerfile", "FROM busybox\nRUN echo $HOME > /tmp/h\n")
        let build = try await s.build([])
        #expect(build.status == 0 && !build.combined.contains("SC2086"), "\(build.combined)")
    }
}
