import Foundation
import Testing
import TestSupport

/// Kills `build`, `load`, `import`, `pull`, `push` and `prune` at staggered points — SIGKILL,
/// SIGHUP, SIGINT, SIGTERM, and SIGPIPE through a pipe whose reader closes, as `| head` does — and checks after
/// each that once the next command ran nothing is left: no mount under the store, no runtime
/// container of ours, `fsck` valid; at the end every command, run again to completion, gives
/// the right content (file digests inside the image). SIGHUP, SIGINT, SIGTERM and a closed pipe
/// must also leave no mount or container by themselves (the killed process cleans up: exit 129,
/// 130, 143, or 1 for a failed build); the store's temp files of a dead process are gone once
/// the next command opened the store.
/// The kill points are fixed fractions of the time a complete run of the same command took, so
/// they land in different phases of its work whatever the speed of the machine.
@Suite("Store: kill matrix (SIGKILL, SIGHUP, SIGINT, SIGTERM, closed pipe) across commands", .serialized,
       .requires(BuildHarness.requirements + TestRegistry.prerequisites))
struct KillMatrixTests {
    enum Kill: CustomStringConvertible {
        case sigkill, sighup, sigint, sigterm, closedPipe
        var description: String {
            switch self {
            case .sigkill: "SIGKILL"
            case .sighup: "SIGHUP"
            case .sigint: "SIGINT"
            case .sigterm: "SIGTERM"
            case .closedPipe: "closed pipe"
            }
        }
        /// The exit status of a command that handled the signal (128 + its number).
        var handledStatus: Int32? {
            switch self {
            case .sighup: 129
            case .sigint: 130
            case .sigterm: 143
            case .sigkill, .closedPipe: nil
            }
        }
    }

    /// Where the kill lands: fractions of a complete run, each paired with a kind of kill.
    static let points: [(Double, Kill)] = [(0.15, .sigkill), (0.45, .sighup), (0.3, .closedPipe), (0.7, .sigkill),
                                           (0.25, .sigint), (0.55, .sigterm)]

    /// A RUN that writes a line every 20 ms for 4 s: the closed pipe meets a write mid-RUN.
    static let dockerfile = """
        FROM payload
        COPY a.txt /a.txt
        RUN for i in $(seq 1 200); do echo line $i; sleep 0.02; done; cp /a.txt /b.txt
        RUN sha256sum /a.txt /payload.bin > /sums
        """

    struct Outcome {
        var pid: Int32
        var status: Int32
        var bySignal: Bool
        var log: String
    }

    /// Runs `args` and kills it `after` seconds (a closed pipe: closes the output's reader).
    /// `waitFor`: start the clock only once the output shows this text. The status is read after
    /// `next` ran: a SIGKILLed build's orphaned container holds Foundation's wait until then.
    func run(_ args: [String], in dir: String, kill: Kill, after delay: Double, waitFor: String? = nil) async throws -> WatchedProcess {
        try await offPool {
            let p = try WatchedProcess(args, logIn: dir, throughPipe: kill == .closedPipe)
            if let waitFor { _ = p.wait(for: waitFor) }
            usleep(UInt32(delay * 1_000_000))
            switch kill {
            case .sigkill: p.signal(SIGKILL)
            case .sighup: p.signal(SIGHUP)
            case .sigint: p.signal(SIGINT)
            case .sigterm: p.signal(SIGTERM)
            case .closedPipe: p.closeOutput()
            }
            p.waitStopped(timeout: 60)
            return p
        }
    }

    /// Seconds a complete run of `args` takes (it must succeed).
    func timed(_ args: [String]) async throws -> Double {
        let r = try await BuildHarness.run([BuildHarness.binary] + args)
        try #require(r.status == 0, "\(args.joined(separator: " ")): \(r.combined)")
        return r.seconds
    }

    /// Containers of ours (their bundle is in a scratch directory under `store`).
    func containers(under store: String) async throws -> [String] {
        let r = try await BuildHarness.run(["/usr/sbin/runc", "list", "--format", "json"])
        let list = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]) ?? []
        return list.compactMap { c in
            guard let bundle = c["bundle"] as? String, bundle.hasPrefix(store + "/") else { return nil }
            return c["id"] as? String
        }
    }

    /// What a kill left under `store` right now: mounts, containers, scratch directories.
    func leftovers(_ store: String) async throws -> [String] {
        let scratch = ((try? FileManager.default.contentsOfDirectory(atPath: store + "/scratch")) ?? []).map { "scratch/" + $0 }
        return BuildHarness.mounts(under: store) + (try await containers(under: store)) + scratch
    }

    /// The store's own temp files (`tmp/<pid>-…`, partial `snapshots/<pid>-….d`): the next
    /// command removes those of a dead process.
    func storeTempFiles(_ store: String) -> [String] {
        let tmp = ((try? FileManager.default.contentsOfDirectory(atPath: store + "/tmp")) ?? []).map { "tmp/" + $0 }
        let partial = ((try? FileManager.default.contentsOfDirectory(atPath: store + "/snapshots")) ?? [])
            .filter { $0.hasSuffix(".d") }.map { "snapshots/" + $0 }
        return tmp + partial
    }

    /// The checks after each kill: the process cleaned up itself when it could, the next
    /// command (`images`) cleans the rest, `fsck` is valid. True when the kill cut the command
    /// short (it had not finished yet).
    @discardableResult
    func check(_ p: WatchedProcess, _ kill: Kill, store: String, label: String, failsOnPipe: Bool = false) async throws -> Bool {
        if kill != .sigkill {
            // It handled the signal or the failed write itself: nothing may be left even before
            // another command runs, and it ended by exiting, not by a signal.
            let left = try await leftovers(store)
            #expect(left.isEmpty, "\(label): left by the process itself: \(left)")
        }
        let next = try await BuildHarness.run([BuildHarness.binary, "images", "--root", store])
        #expect(next.status == 0, "\(label): \(next.combined)")
        let status = await offPool { (p.status, p.process.terminationReason == .uncaughtSignal) }
        switch kill {
        case .sigkill:
            #expect(status.1 || status.0 == 0, "\(label): status \(status)")
        case .sighup, .sigint, .sigterm:
            let want = kill.handledStatus ?? 0
            #expect(!status.1 && (status.0 == want || status.0 == 0), "\(label): status \(status) (want \(want), or 0 if it had finished)\n\(p.output)")
        case .closedPipe:
            let want: Set<Int32> = failsOnPipe ? [1] : [0, 1]
            #expect(!status.1 && want.contains(status.0), "\(label): status \(status) (want \(want.sorted()); 141 is death by SIGPIPE)\n\(p.output)")
        }
        let left = try await leftovers(store) + storeTempFiles(store)
        #expect(left.isEmpty, "\(label): left after the next command: \(left)")
        let fsck = try await BuildHarness.run([BuildHarness.binary, "fsck", "--root", store])
        #expect(fsck.status == 0 && fsck.stdout.contains("store is valid"), "\(label): \(fsck.combined)")
        return status != (0, false)
    }

    /// `sha256sum` of the payload and of a.txt in `image` of `store`, checked against the files.
    func expectContent(_ image: String, store: String, payloadSum: String, label: String) async throws {
        let r = try await BuildHarness.run([BuildHarness.binary, "run", "--root", store, "--rm", image, "sha256sum", "/payload.bin"])
        #expect(r.status == 0 && r.stdout.hasPrefix(payloadSum + " "), "\(label): \(r.combined)")
    }

    @Test("≥ 20 kills across build, load, import, pull, push and prune leave no mount, container or wrong content")
    func killMatrix() async throws {
        let s = try BuildSandbox()
        let registry = try await TestRegistry()
        let root = s.root
        let store = s.store

        // The payload image: busybox plus 6 MB of random bytes (so each command has work to cut).
        let busybox = try await BuildHarness.fixture("busybox")
        let tar = root + "/payload.tar"
        try #require(try await BuildHarness.run(["/bin/cp", busybox + "/rootfs.tar", tar]).status == 0)
        try #require(try await BuildHarness.run(["/bin/dd", "if=/dev/urandom", "of=\(root)/payload.bin", "bs=1M", "count=6"]).status == 0)
        try #require(try await BuildHarness.run(["/bin/tar", "-C", root, "-rf", tar, "payload.bin"]).status == 0)
        let sum = try await BuildHarness.run(["/usr/bin/sha256sum", root + "/payload.bin"])
        let payloadSum = String(sum.stdout.prefix(64))
        let importTime = try await timed(["import", tar, "payload", "--root", store])
        var kills = 0
        var interrupted = 0

        // import: each round into a store of its own, so it always has the whole work to do.
        for (i, (fraction, kill)) in Self.points.enumerated() {
            let target = root + "/import-\(i)"
            let p = try await run(["import", tar, "payload", "--root", target], in: root, kill: kill, after: importTime * fraction)
            if try await check(p, kill, store: target, label: "import \(kill) at \(fraction)") { interrupted += 1 }
            kills += 1
        }

        // load: of the saved image, likewise into fresh stores.
        let archive = root + "/payload.oci.tar"
        try #require(try await BuildHarness.run([BuildHarness.binary, "save", "-o", archive, "payload", "--root", store]).status == 0)
        let loadTime = try await timed(["load", "-i", archive, "--root", root + "/load-ref"])
        for (i, (fraction, kill)) in Self.points.enumerated() {
            let target = root + "/load-\(i)"
            let p = try await run(["load", "-i", archive, "--root", target], in: root, kill: kill, after: loadTime * fraction)
            if try await check(p, kill, store: target, label: "load \(kill) at \(fraction)") { interrupted += 1 }
            kills += 1
        }

        // push: each round to a repository of its own (nothing there yet to skip).
        let pushTime = try await timed(["push", "payload", "\(registry.host)/kill/ref:1", "--root", store])
        for (i, (fraction, kill)) in Self.points.enumerated() {
            let p = try await run(["push", "payload", "\(registry.host)/kill/push\(i):1", "--root", store], in: root, kill: kill, after: pushTime * fraction)
            if try await check(p, kill, store: store, label: "push \(kill) at \(fraction)") { interrupted += 1 }
            kills += 1
        }

        // pull: into fresh stores.
        let pullTime = try await timed(["pull", "\(registry.host)/kill/ref:1", "--root", root + "/pull-ref"])
        for (i, (fraction, kill)) in Self.points.enumerated() {
            let target = root + "/pull-\(i)"
            let p = try await run(["pull", "\(registry.host)/kill/ref:1", "--root", target], in: root, kill: kill, after: pullTime * fraction)
            if try await check(p, kill, store: target, label: "pull \(kill) at \(fraction)") { interrupted += 1 }
            kills += 1
        }

        // prune: of a store whose only image was removed (all its blobs are garbage).
        let garbage = root + "/load-ref"
        func makeGarbage() async throws {
            _ = try await BuildHarness.run([BuildHarness.binary, "load", "-i", archive, "--root", garbage])
            try #require(try await BuildHarness.run([BuildHarness.binary, "rmi", "payload", "--root", garbage]).status == 0)
        }
        try await makeGarbage()
        let pruneTime = try await timed(["prune", "-f", "--root", garbage])
        for (fraction, kill) in Self.points.prefix(3) {
            try await makeGarbage()
            let p = try await run(["prune", "-f", "--root", garbage], in: root, kill: kill, after: pruneTime * fraction)
            if try await check(p, kill, store: garbage, label: "prune \(kill) at \(fraction)") { interrupted += 1 }
            kills += 1
        }

        // build: killed mid-RUN (the clock starts when the RUN's output does).
        try s.write("Dockerfile", Self.dockerfile)
        try s.write("a.txt", "alpha\n")
        let buildArgs = ["build", "--progress", "plain", "-t", "k", s.context, "--root", store]
        let buildPoints: [(Double, Kill)] = [(0.1, .closedPipe), (0.3, .sighup), (0.5, .sigkill), (0.2, .closedPipe),
                                             (0.6, .sighup), (0.05, .sigkill), (0.4, .sigint), (0.25, .sigterm)]
        for (fraction, kill) in buildPoints {
            let p = try await run(buildArgs, in: root, kill: kill, after: fraction, waitFor: "line 3")
            if try await check(p, kill, store: store, label: "build \(kill) at \(fraction)s into the RUN", failsOnPipe: true) { interrupted += 1 }
            kills += 1
        }
        #expect(kills >= 20)
        // Most kills must cut a command short, or the matrix checks little (a closed pipe that
        // no later write meets, or a kill after the end, leaves a finished command).
        #expect(interrupted >= 20, "only \(interrupted) of \(kills) kills interrupted a command")

        // Every command once more to completion: the content is right.
        let importAgain = try await BuildHarness.run([BuildHarness.binary, "import", tar, "payload", "--root", root + "/import-0"])
        #expect(importAgain.status == 0, "\(importAgain.combined)")
        try await expectContent("payload", store: root + "/import-0", payloadSum: payloadSum, label: "import again")
        let loadAgain = try await BuildHarness.run([BuildHarness.binary, "load", "-i", archive, "--root", root + "/load-1"])
        #expect(loadAgain.status == 0, "\(loadAgain.combined)")
        try await expectContent("payload", store: root + "/load-1", payloadSum: payloadSum, label: "load again")
        let pushAgain = try await BuildHarness.run([BuildHarness.binary, "push", "payload", "\(registry.host)/kill/push0:1", "--root", store])
        #expect(pushAgain.status == 0, "\(pushAgain.combined)")
        let pullAgain = try await BuildHarness.run([BuildHarness.binary, "pull", "\(registry.host)/kill/push0:1", "--root", root + "/pull-0"])
        #expect(pullAgain.status == 0, "\(pullAgain.combined)")
        try await expectContent("\(registry.host)/kill/push0:1", store: root + "/pull-0", payloadSum: payloadSum, label: "push + pull again")
        let prune = try await BuildHarness.run([BuildHarness.binary, "prune", "-f", "--root", garbage])
        #expect(prune.status == 0, "\(prune.combined)")
        let emptied = ((try? FileManager.default.contentsOfDirectory(atPath: garbage + "/blobs/sha256")) ?? [])
        #expect(emptied.isEmpty, "prune after the killed prunes left blobs: \(emptied)")
        // Partial blobs and snapshots of the killed commands are garbage that prune removes.
        let stores = [store] + (0..<Self.points.count).flatMap { i in ["import-", "load-", "pull-"].map { root + "/" + $0 + "\(i)" } }
        for target in stores {
            let r = try await BuildHarness.run([BuildHarness.binary, "prune", "-f", "--root", target])
            #expect(r.status == 0, "\(r.combined)")
            let temps = ((try? FileManager.default.contentsOfDirectory(atPath: target + "/tmp")) ?? [])
                + ((try? FileManager.default.contentsOfDirectory(atPath: target + "/snapshots")) ?? []).filter { $0.contains("-") }
            #expect(temps.isEmpty, "\(target): temp files left after prune: \(temps)")
        }

        try s.write("Dockerfile", Self.dockerfile.replacingOccurrences(of: "sleep 0.02; ", with: ""))
        let rebuilt = try await s.build(["-t", "k"])
        #expect(rebuilt.status == 0, "\(rebuilt.combined)")
        let verify = try await s.slipway(["run", "--rm", "k", "sh", "-c", "cat /b.txt; sha256sum -c /sums >/dev/null && echo ok; sha256sum /payload.bin"])
        #expect(verify.stdout == "alpha\nok\n\(payloadSum)  /payload.bin\n", "\(verify.combined)")
        #expect(!s.leftovers().contains { $0.hasPrefix("/") }, "\(s.leftovers())")
    }
}
