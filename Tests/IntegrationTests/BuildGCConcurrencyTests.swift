import Foundation
import Testing
import TestSupport

/// GC never removes what running work uses: a build leases its base image's blobs and every
/// cached layer it takes, so `prune --cache` and `rmi` of the base while builds run leave them
/// intact, and `rmi` during `slipway run` leaves the container's filesystem whole.
@Suite("Store: GC while builds and containers run", .serialized, .requires(BuildHarness.requirements))
struct BuildGCConcurrencyTests {
    static let dockerfile = """
        FROM busybox
        COPY a.txt /a.txt
        RUN sleep 0.3; cp /a.txt /b.txt
        RUN sleep 0.3; cat /b.txt /a.txt > /c.txt
        RUN sleep 0.3; sha256sum /c.txt > /c.sum
        """

    func sandbox() async throws -> BuildSandbox {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("Dockerfile", Self.dockerfile)
        try s.write("a.txt", "alpha\n")
        return s
    }

    /// Starts `slipway build` on `store`; once its FROM is resolved (the log shows step 2),
    /// runs the GC command `gc` again and again until the build ends (bounded). Returns the
    /// build's status and output, and how many GCs ran while it ran.
    static func buildUnderGC(store: String, context: String, _ args: [String], gc: [String]) async throws -> (Int32, String, Int) {
        try await offPool {
            let build = try WatchedProcess(["build", "--progress", "plain"] + args + [context, "--root", store],
                                           logIn: (store as NSString).deletingLastPathComponent)
            var runs = 0
            if build.wait(for: "[2/5]", timeout: 120) {
                while build.isRunning, runs < 200 {
                    _ = try BuildHarness.runBlocking([BuildHarness.binary] + gc + ["--root", store])
                    runs += 1
                }
            }
            let output = build.waitStopped()
            return (build.status, output, runs)
        }
    }

    @Test("`prune --cache` and `rmi` of the base while builds run: every build succeeds with the right content (6 rounds)")
    func pruneDuringBuilds() async throws {
        let s = try await sandbox()
        let warm = try await s.build(["-t", "gc:warm"])
        #expect(warm.status == 0, "\(warm.combined)")
        for round in 0..<6 {
            try s.write("a.txt", "alpha \(round)\n")
            // Half the rounds rebuild from the cache (hits leased), half from scratch.
            let args = round % 2 == 0 ? ["-t", "gc:\(round)"] : ["--no-cache", "-t", "gc:\(round)"]
            let gc = round == 3 ? ["rmi", "busybox:latest"] : ["prune", "-f", "--cache"]
            let (status, output, runs) = try await Self.buildUnderGC(store: s.store, context: s.context, args, gc: gc)
            #expect(status == 0, "round \(round) (\(runs) concurrent GCs): \(output)")
            #expect(runs > 0, "round \(round): GC ran during the build")
            let check = try await s.slipway(["run", "--rm", "gc:\(round)", "sh", "-c", "cat /c.txt; sha256sum -c /c.sum >/dev/null && echo ok"])
            #expect(check.stdout == "alpha \(round)\nalpha \(round)\nok\n", "round \(round): \(check.combined)")
            if round == 3 { try await s.importFixture("busybox", as: "busybox:latest") }
        }
        let fsck = try await s.slipway(["fsck"])
        #expect(fsck.status == 0, "\(fsck.combined)")
    }

    @Test("`rmi` of the image a container runs leaves the container's filesystem whole")
    func rmiDuringRun() async throws {
        let s = try await sandbox()
        let built = try await s.build(["-t", "gc:run"])
        #expect(built.status == 0, "\(built.combined)")
        let argv = [BuildHarness.binary, "run", "--root", s.store, "--rm", "gc:run", "sh", "-c", "sleep 2; ls /bin | wc -l; cat /c.txt"]
        async let run = BuildHarness.run(argv)
        try await Task.sleep(for: .milliseconds(700))
        let rmi = try await s.slipway(["rmi", "gc:run"])
        let prune = try await s.slipway(["prune", "-f", "--cache"])
        let r = try await run
        #expect(rmi.status == 0 && prune.status == 0, "\(rmi.combined)\(prune.combined)")
        let lines = r.stdout.split(separator: "\n")
        #expect(r.status == 0 && lines.count == 3, "\(r.combined)")
        #expect((Int(lines.first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0) > 100, "busybox's applets are still there: \(r.stdout)")
        let fsck = try await s.slipway(["fsck"])
        #expect(fsck.status == 0, "\(fsck.combined)")
    }
}
