import Foundation
import Testing
import TestSupport

/// GC never removes what running work uses: a build leases its base image's blobs and every
/// cached layer it takes, so `prune --cache` and `rmi` of the base while builds run leave them
/// intact, and `rmi` during `slipway run` leaves the container's filesystem whole.
@Suite("Store: GC while builds and containers run", .serialized, .enabled(if: BuildHarness.skipReason == nil, "needs root, runc and a built slipway"))
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

    /// Runs slipway `args` on `store` again and again until `stop` says so (bounded).
    static func hammer(store: String, _ args: [String], until stop: @escaping @Sendable () -> Bool) async throws -> Int {
        var n = 0
        while !stop(), n < 200 {
            _ = try await BuildHarness.run([BuildHarness.binary] + args + ["--root", store])
            n += 1
        }
        return n
    }

    @Test("`prune --cache` and `rmi` of the base while builds run: every build succeeds with the right content (6 rounds)")
    func pruneDuringBuilds() async throws {
        let s = try await sandbox()
        let warm = try await s.build(["-t", "gc:warm"])
        #expect(warm.status == 0, "\(warm.combined)")
        for round in 0..<6 {
            let done = Flag()
            try s.write("a.txt", "alpha \(round)\n")
            // Half the rounds rebuild from the cache (hits leased), half from scratch.
            let args = round % 2 == 0 ? ["-t", "gc:\(round)"] : ["--no-cache", "-t", "gc:\(round)"]
            let (store, context) = (s.store, s.context)
            let argv = [BuildHarness.binary, "build", "--progress", "plain"] + args + [context, "--root", store]
            async let build: BuildHarness.Result = {
                defer { done.set() }
                return try await BuildHarness.run(argv)
            }()
            async let prunes = Self.hammer(store: store, round == 3 ? ["rmi", "busybox:latest"] : ["prune", "--cache"], until: done.isSet)
            let (r, n) = try await (build, prunes)
            #expect(r.status == 0, "round \(round) (\(n) concurrent GCs): \(r.combined)")
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
        let prune = try await s.slipway(["prune", "--cache"])
        let r = try await run
        #expect(rmi.status == 0 && prune.status == 0, "\(rmi.combined)\(prune.combined)")
        let lines = r.stdout.split(separator: "\n")
        #expect(r.status == 0 && lines.count == 3, "\(r.combined)")
        #expect((Int(lines.first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0) > 100, "busybox's applets are still there: \(r.stdout)")
        let fsck = try await s.slipway(["fsck"])
        #expect(fsck.status == 0, "\(fsck.combined)")
    }
}

/// A flag set once, read from other tasks.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: @Sendable () -> Bool { { [self] in lock.lock(); defer { lock.unlock() }; return value } }
}
