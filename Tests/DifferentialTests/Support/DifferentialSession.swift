import Foundation
import TestSupport

/// Everything one run of the suite shares: the private dockerd, a private Slipway store, the
/// base images (imported once, given to both builders with the same bytes), and a bound on how
/// many cases build at once (2 cores, shared).
actor DifferentialSession {
    @TaskLocal static var current: DifferentialSession?

    let docker: DockerDaemon
    /// Scratch directory: the Slipway store, case contexts, saved archives.
    let root: String
    var store: String { root + "/store" }
    /// Where archives are loaded to be read (`ImageSnapshot.load`): base layers are read once.
    var readStore: String { root + "/read-store" }
    private let limiter = AsyncLimiter(2)
    private var bases: [BaseImage: Task<Void, Error>] = [:]
    private var baseSnapshots: [String: Task<ImageSnapshot, Error>] = [:]

    private init(docker: DockerDaemon, root: String) {
        self.docker = docker
        self.root = root
    }

    static func start() async throws -> DifferentialSession {
        let root = try makeTemporaryDirectory("/var/tmp/slipway-diff-XXXXXX")
        do {
            return DifferentialSession(docker: try await DockerDaemon.start(script: Paths.sessionScript, httpRoot: Paths.cases), root: root)
        } catch {
            try? FileManager.default.removeItem(atPath: root)
            throw error
        }
    }

    func stop() async {
        await docker.stop()
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Runs `slipway ARGS --root STORE`; throws with its output when it fails.
    @discardableResult
    func slipway(_ args: [String], cwd: String? = nil) async throws -> ProcessOutput {
        let r = try await runProcess([Paths.slipway] + args + ["--root", store], cwd: cwd)
        guard r.status == 0 else { throw DifferentialError("slipway \(args.joined(separator: " ")): \(r.combined.suffix(3000))") }
        return r
    }

    /// Runs the docker CLI; throws with its output when it fails.
    @discardableResult
    func docker(_ args: [String], cwd: String? = nil) async throws -> ProcessOutput {
        let r = try await docker.docker(args, cwd: cwd)
        guard r.status == 0 else { throw DifferentialError("docker \(args.joined(separator: " ")): \(r.combined.suffix(3000))") }
        return r
    }

    /// Makes `base` available to both builders (once per session, whoever asks first).
    func ensure(_ base: BaseImage) async throws {
        if let task = bases[base] { return try await task.value }
        let task = Task { try await self.makeBase(base) }
        bases[base] = task
        try await task.value
    }

    private func makeBase(_ base: BaseImage) async throws {
        let fixture = try await runProcess(["/bin/bash", Paths.fixtures, base.fixture])
        guard fixture.status == 0 else { throw DifferentialError("fixtures.sh \(base.fixture): \(fixture.stderr)") }
        let rootfs = fixture.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + "/rootfs.tar"
        let first = base.names[0]
        if let prepare = base.prepare {
            let raw = "diff-base/\(base.fixture):raw"
            try await slipway(["import", rootfs, raw])
            let dir = try makeTemporaryDirectory(root + "/base-XXXXXX")
            // This machine intercepts HTTPS with a CA of its own: Slipway's RUN binds the host's
            // bundle, BuildKit's does not, so a base whose builds download over HTTPS (pip) can
            // bake it in for both (`COPY host-ca-certificates.crt /etc/ssl/certs/…`).
            if FileManager.default.fileExists(atPath: "/etc/ssl/certs/ca-certificates.crt") {
                try FileManager.default.copyItem(atPath: "/etc/ssl/certs/ca-certificates.crt", toPath: dir + "/host-ca-certificates.crt")
            } else {
                _ = FileManager.default.createFile(atPath: dir + "/host-ca-certificates.crt", contents: nil)
            }
            try (["FROM " + raw] + prepare).joined(separator: "\n").appending("\n")
                .write(toFile: dir + "/Dockerfile", atomically: true, encoding: .utf8)
            try await slipway(["build", "--progress", "plain", "--network", "host"] + base.names.flatMap { ["-t", $0] } + [dir])
        } else {
            try await slipway(["import", rootfs, first])
            for name in base.names.dropFirst() { try await slipway(["tag", first, name]) }
        }
        let archive = root + "/base-\(UUID().uuidString).tar"
        try await slipway(["save", "--format", "docker", "-o", archive] + base.names)
        try await docker(["load", "-i", archive])
        try? FileManager.default.removeItem(atPath: archive)
    }

    /// The file tree, config and history of a base image (for expected-output cases).
    func baseSnapshot(_ name: String) async throws -> ImageSnapshot {
        if let task = baseSnapshots[name] { return try await task.value }
        let task = Task { try await self.snapshot(ofSlipwayImage: name) }
        baseSnapshots[name] = task
        return try await task.value
    }

    /// `slipway save`s an image and reads the archive back.
    func snapshot(ofSlipwayImage name: String) async throws -> ImageSnapshot {
        let archive = root + "/out-\(UUID().uuidString).tar"
        defer { try? FileManager.default.removeItem(atPath: archive) }
        try await slipway(["save", "-o", archive, name])
        let readStore = self.readStore
        return try await ImageSnapshot.load(archive: archive, readStore: readStore)
    }

    /// `docker save`s an image and reads the archive back.
    func snapshot(ofDockerImage name: String) async throws -> ImageSnapshot {
        let archive = root + "/out-\(UUID().uuidString).tar"
        defer { try? FileManager.default.removeItem(atPath: archive) }
        try await docker(["save", "-o", archive, name])
        let readStore = self.readStore
        return try await ImageSnapshot.load(archive: archive, readStore: readStore)
    }

    /// At most `limit` bodies at a time (builds are CPU- and disk-bound on a shared 2-core machine).
    func limited<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await limiter.acquire()
        do {
            let value = try await body()
            await limiter.release()
            return value
        } catch {
            await limiter.release()
            throw error
        }
    }
}

/// A counting semaphore for async code.
actor AsyncLimiter {
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ limit: Int) { available = limit }

    func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            available += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}
