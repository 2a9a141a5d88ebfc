import Foundation
import Testing
import TestSupport

/// After a SIGKILL during a RUN (with a secret mounted), the next command that opens the store
/// removes what the dead build left: its container (still running), overlay mounts, scratch
/// directories and the step's secret files; `fsck` stays valid and a rebuild is correct.
@Suite("Store: cleanup after SIGKILL", .serialized, .enabled(if: BuildHarness.skipReason == nil, "needs root, runc and a built slipway"))
struct BuildKillCleanupTests {
    static let dockerfile = """
        FROM busybox
        COPY a.txt /a.txt
        RUN --mount=type=secret,id=tok,target=/run/secrets/tok sleep 30; cp /a.txt /b.txt
        RUN sha256sum /a.txt > /a.sum
        """

    /// Starts a build, waits until its RUN has started (plus a random delay), SIGKILLs it.
    /// Returns the pid killed, or nil when the build ended first.
    func killDuringRun(_ s: BuildSandbox, secret: String) async throws -> Int32? {
        let log = s.root + "/kill-\(UUID().uuidString.prefix(6)).log"
        let args = ["build", "--progress", "plain", "--secret", "id=tok,src=\(secret)", "-t", "k", s.context, "--root", s.store]
        return try await offPool {
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: BuildHarness.binary)
            p.arguments = args
            let out = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            p.standardOutput = out
            p.standardError = out
            p.standardInput = FileHandle.nullDevice
            try p.run()
            let deadline = Date().addingTimeInterval(60)
            var killed: Int32?
            while p.isRunning, Date() < deadline {
                if ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("RUN sleep 30") {
                    usleep(UInt32.random(in: 200_000...900_000))
                    if p.isRunning, kill(p.processIdentifier, SIGKILL) == 0 { killed = p.processIdentifier }
                    break
                }
                usleep(10_000)
            }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            // Not `waitUntilExit`: Foundation waits there until every process that inherited
            // its bookkeeping descriptor has closed it — the orphaned container included, which
            // is exactly what the next command must kill. Wait for the build itself to be reaped.
            let stopped = Date().addingTimeInterval(10)
            while Self.runs(p.processIdentifier), Date() < stopped { usleep(10_000) }
            return killed
        }
    }

    /// Whether `pid` exists and is not a zombie (Foundation reaps it late, see above).
    static func runs(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].drop { $0 == " " }.first != "Z"
    }

    /// Things named after `pid` (`<prefix>-<pid>-<hex>`) in `dir`.
    func owned(by pid: Int32, in dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.contains("-\(pid)-") }
    }

    /// Containers whose bundle lies in a directory `pid` made (other tests' containers may run).
    func containers(of pid: Int32) async throws -> [String] {
        let r = try await BuildHarness.run(["/usr/sbin/runc", "list", "--format", "json"])
        let list = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]) ?? []
        return list.compactMap { c in
            guard let bundle = c["bundle"] as? String, bundle.contains("-\(pid)-") else { return nil }
            return c["id"] as? String
        }
    }

    @Test("20 SIGKILLs during a RUN with a secret: the next command leaves no mount, container, scratch or secret; fsck valid; rebuild correct")
    func killMatrix() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("Dockerfile", Self.dockerfile)
        try s.write("a.txt", "alpha\n")
        let secret = s.root + "/tok"
        try "s3cr3t-value".write(toFile: secret, atomically: true, encoding: .utf8)
        var kills = 0
        for _ in 0..<20 {
            guard let pid = try await killDuringRun(s, secret: secret) else { continue }
            kills += 1
            // Any command that opens the store cleans up after the dead build.
            let images = try await s.slipway(["images"])
            #expect(images.status == 0, "\(images.combined)")
            #expect(BuildHarness.mounts(under: s.store).isEmpty, "mounts left: \(BuildHarness.mounts(under: s.store))")
            #expect(owned(by: pid, in: s.store + "/scratch").isEmpty, "scratch of \(pid) left")
            #expect(owned(by: pid, in: "/dev/shm").isEmpty, "step scratch (secrets) of \(pid) left in /dev/shm")
            let left = try await containers(of: pid)
            #expect(left.isEmpty, "containers of the killed build left: \(left)")
        }
        #expect(kills >= 18, "most rounds killed the build during its RUN (\(kills) of 20)")
        let fsck = try await s.slipway(["fsck"])
        #expect(fsck.status == 0 && fsck.stdout.contains("store is valid"), "\(fsck.combined)")
        try s.write("Dockerfile", Self.dockerfile.replacingOccurrences(of: "sleep 30; ", with: ""))
        let rebuilt = try await s.build(["--secret", "id=tok,src=\(secret)", "-t", "k"])
        #expect(rebuilt.status == 0, "\(rebuilt.combined)")
        let check = try await s.slipway(["run", "--rm", "k", "sh", "-c", "cat /b.txt; sha256sum -c /a.sum >/dev/null && echo ok"])
        #expect(check.stdout == "alpha\nok\n", "\(check.combined)")
        #expect(!s.leftovers().contains { $0.hasPrefix("/") }, "\(s.leftovers())")
    }
}
