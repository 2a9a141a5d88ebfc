import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Crash safety and concurrency: SIGKILL `slipway import`/`load` at random moments; the store
/// must stay valid (fsck exit 0) every time, and concurrent writers must not corrupt it.
@Suite(.serialized) struct StoreCrashTests {
    /// Starts slipway, kills it after `delay` seconds (if still running), returns whether it was
    /// killed. The timing runs on its own thread: a sleep on the cooperative pool can wake far too
    /// late on a 2-core machine busy with other suites, after the process has already finished.
    func killAfter(_ bin: String, _ args: [String], delay: Double) async throws -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return await withCheckedContinuation { continuation in
            Thread {
                usleep(useconds_t(delay * 1_000_000))
                let killed = p.isRunning && kill(p.processIdentifier, SIGKILL) == 0
                p.waitUntilExit()
                continuation.resume(returning: killed && p.terminationReason == .uncaughtSignal)
            }.start()
        }
    }

    /// Wall time of one complete run, so kill moments scale with this machine's speed.
    func timeOfFullRun(_ bin: String, root: String, _ args: [String]) async throws -> Double {
        let start = Date()
        _ = try await Fixtures.slipway(bin, root: root, args)
        return Date().timeIntervalSince(start)
    }

    @Test func killedImportsAndLoadsLeaveTheStoreValid() async throws {
        guard let bin = Fixtures.slipwayBinary else { return }
        let dir = try Fixtures.scratch("crash")
        defer { Fixtures.removeScratch(dir) }
        guard let rootfs = try await Fixtures.busyboxRootfs(in: dir, padding: 12 << 20) else { return }
        try await Fixtures.tarball(of: rootfs, to: dir + "/rootfs.tar")
        // A docker-archive to load (loading it recompresses every layer: a long window).
        let src = dir + "/src"
        #expect(try await Fixtures.slipway(bin, root: src, ["import", dir + "/rootfs.tar", "big:1"]).status == 0)
        #expect(try await Fixtures.slipway(bin, root: src, ["save", "--format", "docker", "-o", dir + "/big.tar", "big:1"]).status == 0)

        let root = dir + "/store"
        // How long each command takes here, measured on a throwaway store: kill moments are
        // drawn from the first 90 % of that, so most runs die mid-way on a fast or a slow machine.
        let probe = dir + "/probe"
        let importTime = try await timeOfFullRun(bin, root: probe, ["import", dir + "/rootfs.tar", "p:1"])
        let loadTime = try await timeOfFullRun(bin, root: probe, ["load", "-i", dir + "/big.tar"])
        var killed = 0
        for i in 0..<10 {
            let args = i % 2 == 0 ? ["import", dir + "/rootfs.tar", "big:\(i)", "--root", root]
                                  : ["load", "-i", dir + "/big.tar", "--root", root]
            let full = i % 2 == 0 ? importTime : loadTime
            if try await killAfter(bin, args, delay: Double.random(in: 0.02...max(0.05, full * 0.9))) { killed += 1 }
            let fsck = try await Fixtures.slipway(bin, root: root, ["fsck"])
            #expect(fsck.status == 0, "after kill \(i): \(fsck.stdout) \(fsck.stderr)")
            #expect(!fsck.stdout.contains("problem:"), "\(fsck.stdout)")
        }
        #expect(killed > 0, "no run was killed mid-way: make the input larger")
        let repair = try await Fixtures.slipway(bin, root: root, ["fsck", "--repair"])
        #expect(repair.status == 0)
        let clean = try await Fixtures.slipway(bin, root: root, ["fsck"])
        #expect(clean.status == 0 && clean.stdout.contains(" 0 garbage"), "\(clean.stdout)")
        // The store still works: a complete load succeeds and lists the image.
        #expect(try await Fixtures.slipway(bin, root: root, ["load", "-i", dir + "/big.tar"]).status == 0)
        #expect(try await Fixtures.slipway(bin, root: root, ["images"]).stdout.contains("big "))
    }

    @Test func concurrentWritersAndPruneKeepTheStoreValid() async throws {
        guard let bin = Fixtures.slipwayBinary else { return }
        let dir = try Fixtures.scratch("concurrent")
        defer { Fixtures.removeScratch(dir) }
        guard let rootfs = try await Fixtures.busyboxRootfs(in: dir) else { return }
        for i in 0..<3 {
            try await Fixtures.sh("echo \(i) > '\(rootfs)/etc/version'")
            try await Fixtures.tarball(of: rootfs, to: dir + "/r\(i).tar")
        }
        let root = dir + "/store"
        // Start every writer and collector at once, then wait for all of them.
        var processes: [Process] = []
        for i in 0..<3 {
            for args in [["import", dir + "/r\(i).tar", "img:\(i)"], ["prune"]] {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: bin)
                p.arguments = args + ["--root", root]
                p.standardOutput = FileHandle.nullDevice
                p.standardError = FileHandle.nullDevice
                try p.run()
                processes.append(p)
            }
        }
        var results: [Int32] = []
        for p in processes {
            await Fixtures.waitOffPool(p)
            results.append(p.terminationStatus)
        }
        #expect(results.allSatisfy { $0 == 0 }, "\(results)")
        let list = try await Fixtures.slipway(bin, root: root, ["images", "-q"]).stdout.split(separator: "\n")
        #expect(list.count == 3)
        let fsck = try await Fixtures.slipway(bin, root: root, ["fsck"])
        #expect(fsck.status == 0 && !fsck.stdout.contains("problem:"), "\(fsck.stdout)")
    }
}
