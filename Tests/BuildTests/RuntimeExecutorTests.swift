#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import Build
import TestSupport
import System

@Suite("RuntimeExecutor", .serialized, .requires(RuntimeFixture.prerequisites))
struct RuntimeExecutorTests {
    @Test func echoHiRunsInBusyboxOverOverlay() async throws {
        let rootfs = try RuntimeFixture.busyboxRootfs()
        let scratch = try RuntimeFixture.scratch()
        defer { try? FileSystem.removeTree(scratch) }
        let lines = RuntimeFixture.Lines()
        let step = try await RuntimeFixture.executor(scratch: scratch)
            .runStep(RunSpec(args: RunSpec.shellForm("echo hi; echo err >&2; stat -c %Y /etc")), lowerDirs: [rootfs], output: lines.append)
        defer { step.remove() }
        #expect(lines.all.contains(OutputLine(stream: .stdout, text: "hi")))
        // /etc/hosts is a stub in a layer above the image's /etc; /etc itself keeps its metadata.
        var st = stat()
        #expect(lstat(rootfs + "/etc", &st) == 0)
        #expect(lines.all.filter { $0.stream == .stdout }.last?.text == String(st.st_mtim.tv_sec))
        #expect(lines.all.contains(OutputLine(stream: .stderr, text: "err")))
        // The runtime's mount points (/etc/hosts, /etc/resolv.conf are missing in busybox) must
        // not leak into the layer: nothing changed.
        #expect(!step.hasChanges, "upper: \((try? FileSystem.entries(step.upperDir)) ?? [])")
        #expect(RuntimeFixture.overlayMounts(under: scratch).isEmpty)
    }

    @Test func exitCodeAndTailArePropagated() async throws {
        let rootfs = try RuntimeFixture.busyboxRootfs()
        let scratch = try RuntimeFixture.scratch()
        defer { try? FileSystem.removeTree(scratch) }
        let executor = try RuntimeFixture.executor(scratch: scratch)
        let script = "for i in $(seq 1 30); do echo line$i; done; exit 3"
        do {
            let step = try await executor.runStep(RunSpec(args: RunSpec.shellForm(script)), lowerDirs: [rootfs])
            step.remove()
            Issue.record("a failing step must throw")
        } catch let error as RuntimeError {
            #expect(error.exitCode == 3)
            guard case let .processFailed(command, _, lastLines) = error else { Issue.record("\(error)"); return }
            #expect(command == ["/bin/sh", "-c", script])
            #expect(lastLines.count == 20)
            #expect(lastLines.last == "line30")
            #expect(error.description.contains("exit code: 3"))
        }
        // After the failure: no mount, no snapshot directory, no runtime state.
        #expect(RuntimeFixture.overlayMounts(under: scratch).isEmpty)
        #expect(((try? FileSystem.entries(scratch)) ?? ["?"]).isEmpty)
        #expect(!executor.runtime.listContainers().contains { $0.bundle.hasPrefix(scratch) })
    }

    @Test func writesAndDeletionsLandInUpperDir() async throws {
        let rootfs = try RuntimeFixture.busyboxRootfs()
        let scratch = try RuntimeFixture.scratch()
        defer { try? FileSystem.removeTree(scratch) }
        let step = try await RuntimeFixture.executor(scratch: scratch).runStep(
            RunSpec(args: RunSpec.shellForm("echo data > /new && rm /etc/group && rm -r /home && mkdir /home && touch /home/x")),
            lowerDirs: [rootfs])
        defer { step.remove() }
        #expect(step.hasChanges)
        #expect(FileIO.readText(step.upperDir + "/new") == "data\n")
        var st = stat()
        #expect(lstat(step.upperDir + "/etc/group", &st) == 0)
        #expect((st.st_mode & S_IFMT) == S_IFCHR && st.st_rdev == 0, "deletion must be a 0:0 whiteout")
        #expect(LowerStack.isOpaque(step.upperDir + "/home"), "recreated dir must be opaque")
        // Runtime mount points stay out of the layer.
        #expect(lstat(step.upperDir + "/etc/hosts", &st) != 0)
        #expect(lstat(step.upperDir + "/proc", &st) != 0)
    }

    @Test func bindMountsServeCachesAndSecretsWithoutReachingTheLayer() async throws {
        let rootfs = try RuntimeFixture.busyboxRootfs()
        let scratch = try RuntimeFixture.scratch()
        defer { try? FileSystem.removeTree(scratch) }
        let cache = scratch + "-cache", secrets = scratch + "-secret"
        try FileSystem.makeDirectories(cache)
        try FileIO.writeFile(Array(("s3cr3t").utf8), to: secrets, mode: 0o400)
        defer { try? FileSystem.removeTree(cache); try? FileSystem.removeTree(secrets) }
        let executor = try RuntimeFixture.executor(scratch: scratch)
        let mounts = [BindMount(source: cache, destination: "/root/.cache/tool", readOnly: false),
                      BindMount(source: secrets, destination: "/run/secrets/token")]
        let lines = RuntimeFixture.Lines()
        let spec = RunSpec(args: RunSpec.shellForm("cat /run/secrets/token; echo; echo one >> /root/.cache/tool/log; "
                                                   + "(echo x 2>/dev/null > /run/secrets/token) 2>/dev/null || echo read-only"), mounts: mounts)
        let step = try await executor.runStep(spec, lowerDirs: [rootfs], output: lines.append)
        defer { step.remove() }
        #expect(lines.texts == ["s3cr3t", "read-only"])
        #expect(FileIO.readText(cache + "/log") == "one\n")
        // As in BuildKit, the directories made for the mounts stay in the layer (empty, 0755):
        // the directory target and its new parent (/root copied up with the image's mode), the
        // file target's new parents (/run, /run/secrets) — never the file target itself.
        var st = stat()
        #expect(lstat(step.upperDir + "/root/.cache/tool", &st) == 0 && (st.st_mode & 0o7777) == 0o755)
        #expect((try? FileSystem.entries(step.upperDir + "/root/.cache/tool")) == [])
        #expect(lstat(step.upperDir + "/root", &st) == 0 && (st.st_mode & 0o7777) == 0o700, "copied up with the image's mode")
        #expect((try? FileSystem.entries(step.upperDir + "/run/secrets")) == [], "no secret file in the layer")
        #expect(Set((try? FileSystem.entries(step.upperDir)) ?? []) == ["root", "run"])
    }

    @Test func networkNoneHasOnlyLoopback() async throws {
        let rootfs = try RuntimeFixture.busyboxRootfs()
        let scratch = try RuntimeFixture.scratch()
        defer { try? FileSystem.removeTree(scratch) }
        let lines = RuntimeFixture.Lines()
        let step = try await RuntimeFixture.executor(scratch: scratch).runStep(
            RunSpec(args: ["/bin/sh", "-c", "ls /sys/class/net"], network: .none), lowerDirs: [rootfs], output: lines.append)
        step.remove()
        #expect(lines.texts.flatMap { $0.split(separator: " ").map(String.init) } == ["lo"])
    }

    @Test func hostNetworkSeesHostInterfaces() async throws {
        let rootfs = try RuntimeFixture.busyboxRootfs()
        let scratch = try RuntimeFixture.scratch()
        defer { try? FileSystem.removeTree(scratch) }
        let lines = RuntimeFixture.Lines()
        let step = try await RuntimeFixture.executor(scratch: scratch).runStep(
            RunSpec(args: ["/bin/ls", "-1", "/sys/class/net"]), lowerDirs: [rootfs], output: lines.append)
        step.remove()
        let host = Set((try? FileSystem.entries("/sys/class/net")) ?? [])
        #expect(host.count > 1)
        #expect(Set(lines.texts) == host)
    }

    @Test func envUserAndWorkdirAreApplied() async throws {
        let rootfs = try RuntimeFixture.busyboxRootfs()
        let scratch = try RuntimeFixture.scratch()
        defer { try? FileSystem.removeTree(scratch) }
        let executor = try RuntimeFixture.executor(scratch: scratch)
        let lines = RuntimeFixture.Lines()
        let spec = RunSpec(args: RunSpec.shellForm("id -u; id -g; id -G; pwd; echo $FOO; echo $HOME; echo $PATH; hostname"),
                           env: ["FOO=bar baz"], workingDir: "/work/dir", user: "app", hostname: "builder")
        let step = try await executor.runStep(spec, lowerDirs: [rootfs], output: lines.append)
        defer { step.remove() }
        #expect(lines.texts == ["1000", "1000", "1000 50", "/work/dir", "bar baz", "/home/app",
                                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "builder"])
        // The missing workdir was created, owned by the user, in the step's layer.
        var st = stat()
        #expect(lstat(step.upperDir + "/work/dir", &st) == 0 && st.st_uid == 1000)

        let numeric = RuntimeFixture.Lines()
        let step2 = try await executor.runStep(RunSpec(args: ["id"], user: "1234:staff"), lowerDirs: [rootfs], output: numeric.append)
        step2.remove()
        #expect(numeric.texts.first?.hasPrefix("uid=1234 gid=50(staff)") == true)

        await #expect(throws: RuntimeError.self) {
            try await executor.runStep(RunSpec(args: ["id"], user: "nosuchuser"), lowerDirs: [rootfs]).remove()
        }
        #expect(RuntimeFixture.overlayMounts(under: scratch).isEmpty)
    }

    @Test(.requires(.crun), arguments: ContainerRuntime.Kind.allCases)
    func cancellationKillsContainerAndCleansUp(kind: ContainerRuntime.Kind) async throws {
        let rootfs = try RuntimeFixture.busyboxRootfs()
        let scratch = try RuntimeFixture.scratch()
        defer { try? FileSystem.removeTree(scratch) }
        let executor = try RuntimeFixture.executor(kind, scratch: scratch)
        let lines = RuntimeFixture.Lines()
        let started = Date()
        let task = Task {
            try await executor.runStep(RunSpec(args: RunSpec.shellForm("echo started; sleep 60")), lowerDirs: [rootfs], output: lines.append)
        }
        while !lines.texts.contains("started") && Date().timeIntervalSince(started) < 20 {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        #expect(RuntimeFixture.overlayMounts(under: scratch).count == 1, "the step's overlay is mounted while it runs")
        #expect(executor.runtime.listContainers().contains { $0.bundle.hasPrefix(scratch) }, "the container is listed while it runs")
        task.cancel()
        let outcome = await task.result
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(throws: CancellationError.self) { try outcome.get() }
        #expect(RuntimeFixture.overlayMounts(under: scratch).isEmpty)
        #expect(((try? FileSystem.entries(scratch)) ?? ["?"]).isEmpty)
        #expect(!executor.runtime.listContainers().contains { $0.bundle.hasPrefix(scratch) })
    }

    @Test func cancellationRightAfterStartIsNotLost() async throws {
        let rootfs = try RuntimeFixture.busyboxRootfs()
        let scratch = try RuntimeFixture.scratch()
        defer { try? FileSystem.removeTree(scratch) }
        let executor = try RuntimeFixture.executor(scratch: scratch)
        for delay in [0, 5, 15] as [UInt64] {
            let started = Date()
            let task = Task { try await executor.runStep(RunSpec(args: ["/bin/sleep", "60"]), lowerDirs: [rootfs]) }
            try await Task.sleep(nanoseconds: delay * 1_000_000)
            task.cancel()
            let outcome = await task.result
            #expect(throws: CancellationError.self) { try outcome.get() }
            #expect(Date().timeIntervalSince(started) < 15, "cancel after \(delay) ms took too long")
        }
        #expect(RuntimeFixture.overlayMounts(under: scratch).isEmpty)
        #expect(((try? FileSystem.entries(scratch)) ?? ["?"]).isEmpty)
        #expect(!executor.runtime.listContainers().contains { $0.bundle.hasPrefix(scratch) })
    }

    @Test(.requires(.crun))
    func crunWorksWithCgroupWorkaround() async throws {
        let rootfs = try RuntimeFixture.busyboxRootfs()
        let scratch = try RuntimeFixture.scratch()
        defer { try? FileSystem.removeTree(scratch) }
        let executor = try RuntimeFixture.executor(.crun, scratch: scratch)
        let lines = RuntimeFixture.Lines()
        let step = try await executor.runStep(RunSpec(args: RunSpec.shellForm("echo via-crun > /tmp/out; cat /tmp/out; id -u"), user: "app"),
                                              lowerDirs: [rootfs], output: lines.append)
        defer { step.remove() }
        #expect(lines.texts == ["via-crun", "1000"], "\(lines.texts)")
        #expect(FileIO.readText(step.upperDir + "/tmp/out") == "via-crun\n")
        await #expect(throws: RuntimeError.self) {
            try await executor.runStep(RunSpec(args: RunSpec.shellForm("exit 7")), lowerDirs: [rootfs]).remove()
        }
        #expect(!executor.runtime.listContainers().contains { $0.bundle.hasPrefix(scratch) })
        #expect(RuntimeFixture.overlayMounts(under: scratch).isEmpty)
    }
}
