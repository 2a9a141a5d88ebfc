import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Crash safety and concurrency: SIGKILL `slipway import`/`load` at random moments; the store
/// must stay valid (fsck exit 0) every time, and concurrent writers must not corrupt it.
@Suite(.serialized, .requires(.slipwayBinary, .busybox)) struct StoreCrashTests {
    /// When to kill a run.
    enum KillMoment {
        /// This many seconds after start.
        case after(Double)
        /// Once the run has a blob half-written in `STORE/tmp` (the window a crash must survive),
        /// plus up to `jitter` seconds.
        case whileWriting(store: String, jitter: Double)
        /// Once the run has removed a file from `directory` (a collection under way), plus up to
        /// `jitter` seconds.
        case whileRemoving(directory: String, jitter: Double)
    }

    static func count(_ directory: String) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: directory).count) ?? 0
    }

    /// Starts slipway, kills it at `moment` (if still running), returns whether it was killed.
    /// The watching runs on a thread of its own: a sleep on the cooperative pool can wake far too
    /// late on a 2-core machine busy with other suites, after the process has already finished.
    func kill(_ bin: String, _ args: [String], at moment: KillMoment) async throws -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        // Earlier killed runs leave temp files behind: only a new one marks this run's write.
        @Sendable func tmpEntries() -> Set<String> {
            guard case .whileWriting(let store, _) = moment else { return [] }
            return Set((try? FileManager.default.contentsOfDirectory(atPath: store + "/tmp")) ?? [])
        }
        let before = tmpEntries()
        var present = 0
        if case .whileRemoving(let directory, _) = moment { present = Self.count(directory) }
        let baseline = present
        try p.run()
        return await withCheckedContinuation { continuation in
            Thread {
                switch moment {
                case .after(let seconds):
                    usleep(useconds_t(seconds * 1_000_000))
                case .whileWriting(_, let jitter):
                    while p.isRunning, tmpEntries().subtracting(before).isEmpty {
                        usleep(500)
                    }
                    usleep(useconds_t(Double.random(in: 0...jitter) * 1_000_000))
                case .whileRemoving(let directory, let jitter):
                    while p.isRunning, Self.count(directory) >= baseline {
                        usleep(200)
                    }
                    usleep(useconds_t(Double.random(in: 0...jitter) * 1_000_000))
                }
                let killed = p.isRunning && Glibc.kill(p.processIdentifier, SIGKILL) == 0
                p.waitUntilExit()
                continuation.resume(returning: killed && p.terminationReason == .uncaughtSignal)
            }.start()
        }
    }

    @Test func killedImportsAndLoadsLeaveTheStoreValid() async throws {
        let bin = Fixtures.slipwayBinary
        let dir = try Fixtures.scratch("crash")
        defer { Fixtures.removeScratch(dir) }
        let rootfs = try await Fixtures.busyboxRootfs(in: dir, padding: 12 << 20)
        try await Fixtures.tarball(of: rootfs, to: dir + "/rootfs.tar")
        // A docker-archive to load (loading it recompresses every layer: a long window).
        let src = dir + "/src"
        #expect(try await Fixtures.slipway(bin, root: src, ["import", dir + "/rootfs.tar", "big:1"]).status == 0)
        #expect(try await Fixtures.slipway(bin, root: src, ["save", "--format", "docker", "-o", dir + "/big.tar", "big:1"]).status == 0)

        let root = dir + "/store"
        // Most runs die while a blob is being written (found by watching the store's tmp
        // directory, so it works on a fast or a loaded machine); some at a random early moment.
        var killed = 0
        for i in 0..<10 {
            let args = i % 2 == 0 ? ["import", dir + "/rootfs.tar", "big:\(i)", "--root", root]
                                  : ["load", "-i", dir + "/big.tar", "--root", root]
            let moment: KillMoment = i % 3 == 2 ? .after(Double.random(in: 0.01...0.2)) : .whileWriting(store: root, jitter: 0.05)
            if try await kill(bin, args, at: moment) { killed += 1 }
            let fsck = try await Fixtures.slipway(bin, root: root, ["fsck"])
            #expect(fsck.status == 0, "after kill \(i): \(fsck.stdout) \(fsck.stderr)")
            #expect(!fsck.stdout.contains("problem:"), "\(fsck.stdout)")
        }
        print("StoreCrashTests: \(killed) of 10 runs killed mid-way")
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
        let bin = Fixtures.slipwayBinary
        let dir = try Fixtures.scratch("concurrent")
        defer { Fixtures.removeScratch(dir) }
        let rootfs = try await Fixtures.busyboxRootfs(in: dir)
        for i in 0..<3 {
            try await Fixtures.sh("echo \(i) > '\(rootfs)/etc/version'")
            try await Fixtures.tarball(of: rootfs, to: dir + "/r\(i).tar")
        }
        let root = dir + "/store"
        // Start every writer and collector at once, then wait for all of them.
        var processes: [Process] = []
        for i in 0..<3 {
            for args in [["import", dir + "/r\(i).tar", "img:\(i)"], ["prune", "-f"]] {
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


    /// Issue 18 #4: a `prune` SIGKILLed at any moment leaves a store `fsck` accepts. Blobs are
    /// unlinked only after the transaction that dropped their rows commits, so a kill leaves at
    /// most unreferenced blobs (garbage), never an image whose blobs are gone.
    @Test func killedPrunesLeaveTheStoreValid() async throws {
        let bin = Fixtures.slipwayBinary
        let dir = try Fixtures.scratch("prune-kill")
        defer { Fixtures.removeScratch(dir) }
        // A template store with 120 dangling images (each import moves the tag g:1 on), so a
        // prune has ~360 blobs to remove: a window a watcher can hit.
        let template = dir + "/template"
        try await Fixtures.sh("""
            set -e
            mkdir -p '\(dir)/r/etc'
            for i in $(seq 0 120); do
              echo $i > '\(dir)/r/etc/version'
              head -c 4096 /dev/urandom > '\(dir)/r/etc/noise'
              tar -C '\(dir)/r' -cf '\(dir)/r.tar' .
              '\(bin)' import '\(dir)/r.tar' g:1 --root '\(template)' > /dev/null
            done
            """)
        let initial = Self.count(template + "/blobs/sha256")
        // What a complete prune leaves: the tagged image's manifest, config and layer.
        try await Fixtures.sh("cp -a '\(template)' '\(dir)/full'")
        #expect(try await Fixtures.slipway(bin, root: dir + "/full", ["prune", "-f"]).status == 0)
        let final = Self.count(dir + "/full/blobs/sha256")
        try #require(initial > final + 300, "template has \(initial) blobs, a full prune leaves \(final)")

        var killed = 0
        var midway = 0
        for i in 0..<20 {
            let root = dir + "/store"
            try await Fixtures.sh("rm -rf '\(root)' && cp -a '\(template)' '\(root)'")
            // Most kills land while blobs are being unlinked (watched, not guessed); every fifth
            // at a random early moment (before or inside the transaction).
            let moment: KillMoment = i % 5 == 4 ? .after(Double.random(in: 0...0.08))
                                                : .whileRemoving(directory: root + "/blobs/sha256", jitter: 0.002)
            if try await kill(bin, ["prune", "-f", "--root", root], at: moment) {
                killed += 1
                let left = Self.count(root + "/blobs/sha256")
                if left > final && left < initial { midway += 1 }
            }
            let fsck = try await Fixtures.slipway(bin, root: root, ["fsck"])
            #expect(fsck.status == 0, "after kill \(i): \(fsck.stdout) \(fsck.stderr)")
            #expect(!fsck.stdout.contains("problem:"), "after kill \(i): \(fsck.stdout)")
            // The store still works: a prune completes and leaves exactly the tagged image.
            if i % 5 == 0 {
                #expect(try await Fixtures.slipway(bin, root: root, ["prune", "-f"]).status == 0)
                #expect(Self.count(root + "/blobs/sha256") == final)
                let clean = try await Fixtures.slipway(bin, root: root, ["fsck"])
                #expect(clean.status == 0 && clean.stdout.contains(" 0 garbage"), "\(clean.stdout)")
            }
        }
        print("StoreCrashTests: \(killed) of 20 prunes killed, \(midway) while unlinking blobs")
        #expect(midway >= 3, "only \(midway) kills landed while blobs were being removed")
    }
}
