#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import Build
import OCI
import TestSupport
import System

/// SIGINT/SIGTERM during a run: the process cleans up (container, mount, snapshot dir) and exits
/// 130/143. Drives the built `slipway run --rootfs` so the real signal handlers are exercised.
@Suite("RuntimeSignals", .serialized, .requires(RuntimeFixture.prerequisites + [.slipwayBinary]))
struct RuntimeSignalTests {
    static let binary = Host.slipwayBinary

    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
    func signalCleansUpAndExits(signal: Int32, expected: Int32) async throws {
        let rootfs = try RuntimeFixture.busyboxRootfs()
        let scratch = try RuntimeFixture.scratch()
        defer { try? FileSystem.removeTree(scratch) }
        let child = try ChildProcess.spawn(["/usr/bin/env", "SLIPWAY_SCRATCH=" + scratch, Self.binary, "run", "--rootfs", rootfs,
                                            "sh", "-c", "echo started; sleep 300"])
        let started = Date()
        let seen = RuntimeFixture.Lines()
        let reader = Thread { child.pumpLines(seen.append) }
        reader.start()
        while !seen.texts.contains("started") && Date().timeIntervalSince(started) < 120 {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        #expect(seen.texts.contains("started"), "\(seen.texts)")
        #expect(RuntimeFixture.overlayMounts(under: scratch).count == 1)
        let runtime = try ContainerRuntime.find(.runc)
        #expect(runtime.listContainers().contains { $0.bundle.hasPrefix(scratch) })
        let killed = Date()
        kill(child.pid, signal)
        // waitpid blocks its thread: keep it off the two-thread cooperative pool.
        let code = try await runOffPool { child.wait() }
        #expect(code == expected, "\(seen.texts)")
        // The container sleeps 300 s: returning well before that proves the signal ended it.
        #expect(Date().timeIntervalSince(killed) < 120)
        #expect(RuntimeFixture.overlayMounts(under: scratch).isEmpty)
        #expect(((try? FileSystem.entries(scratch)) ?? ["?"]).isEmpty, "snapshot dirs left: \((try? FileSystem.entries(scratch)) ?? [])")
        #expect(!runtime.listContainers().contains { $0.bundle.hasPrefix(scratch) })
    }
}
