#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI
import Testing
@testable import Build
import TestSupport
import System

/// `slipway run IMAGE` end to end: the built binary, a store holding a busybox image with a
/// config (entrypoint-less cmd, env, workdir, user), and the runtime.
@Suite("RuntimeRunCommand", .serialized, .requires(RuntimeFixture.prerequisites + [.slipwayBinary]))
struct RuntimeRunCommandTests {
    struct Setup {
        var storeRoot: String
        var scratch: String
    }

    static func setUp() async throws -> Setup {
        let fixture = String(try RuntimeFixture.busyboxRootfs().dropLast("/rootfs".count))
        let base = try RuntimeFixture.scratch()
        let store = try ImageStore(root: base + "/store")
        let plain = try await ImageArchive.importRootfs(from: fixture + "/rootfs.tar", into: store, tags: [try ImageReference(parsing: "bb:plain")])
        let layers = try store.layerRecords(of: plain)
        let config = ImageConfig(config: ContainerConfig(env: ["PATH=/bin", "GREETING=hello"],
                                                         cmd: ["sh", "-c", "echo $GREETING from $(pwd) as $(id -u):$(id -g)"],
                                                         workingDir: "/srv/app", user: "app"),
                                 diffIDs: layers.map(\.diffID))
        try store.putImage(config: config, layers: layers, tags: [try ImageReference(parsing: "bb:app")])
        return Setup(storeRoot: base + "/store", scratch: base + "/scratch")
    }

    /// Runs `slipway run`; waits for it off the cooperative pool.
    static func run(_ setup: Setup, _ args: [String], stdin: String? = nil) async throws -> (code: Int32, out: [String]) {
        var argv = ["/usr/bin/env", "SLIPWAY_SCRATCH=" + setup.scratch, RuntimeSignalTests.binary, "run", "--root", setup.storeRoot] + args
        if let stdin { argv = ["/bin/sh", "-c", "printf '%s' \"$0\" | \"$@\"", stdin] + argv }
        let command = argv
        return try await offPool {
            let result = try ChildProcess.runCapturing(command)
            return (result.code, result.output.split(separator: "\n").map(String.init))
        }
    }

    @Test func runsImageConfigAndOverrides() async throws {
        let setup = try await Self.setUp()
        defer { try? FileSystem.removeTree(String(setup.storeRoot.dropLast("/store".count))) }

        #expect(try await Self.run(setup, ["bb:app"]) == (0, ["hello from /srv/app as 1000:1000"]))
        #expect(try await Self.run(setup, ["-e", "GREETING=hi", "--user", "root", "--workdir", "/tmp", "bb:app"])
                == (0, ["hi from /tmp as 0:0"]))
        #expect(try await Self.run(setup, ["bb:app", "sh", "-c", "echo $PATH; exit 7"]) == (7, ["/bin"]))
        #expect(try await Self.run(setup, ["--entrypoint", "/bin/echo", "bb:app", "-n", "x"]) == (0, ["x"]))
        #expect(try await Self.run(setup, ["bb:app", "cat"], stdin: "from stdin") == (0, ["from stdin"]))

        let missing = try await Self.run(setup, ["bb:nope", "true"])
        #expect(missing.code == 125)
        #expect(missing.out.contains { $0.hasPrefix("error:") && $0.contains("bb:nope") })
        let noCommand = try await Self.run(setup, ["bb:plain"])
        #expect(noCommand.code == 125)

        #expect(RuntimeFixture.overlayMounts(under: setup.scratch).isEmpty)
        #expect(((try? FileSystem.entries(setup.scratch)) ?? []).isEmpty, "left: \((try? FileSystem.entries(setup.scratch)) ?? [])")
    }
}
