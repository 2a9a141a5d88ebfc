#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import System

/// Runs build steps in an OCI runtime (runc by default, crun with its cgroup workaround) over
/// overlayfs snapshots.
///
/// A step: mount `lowerDirs` (extracted layers, topmost first) with a fresh upper dir, write an
/// OCI bundle (Docker's capabilities, mounts, masked paths; generated /etc/hosts and
/// /etc/resolv.conf), `runtime run` it with output streamed line by line, unmount, and hand the
/// upper dir back. Mount points the runtime would otherwise create in the root (a missing /proc,
/// /etc/hosts...) come from a stub layer under the snapshot instead, so they never leak into the
/// step's layer and an untouched root really gives an empty upper dir.
public struct RunExecutor: Sendable {
    public var runtime: ContainerRuntime
    /// Where snapshots and bundles are created.
    public var scratchDirectory: String
    /// How many trailing output lines a failure carries.
    public var tailLines = 20

    public init(runtime: ContainerRuntime, scratchDirectory: String = RunExecutor.defaultScratchDirectory) {
        self.runtime = runtime
        self.scratchDirectory = scratchDirectory
    }

    /// `$SLIPWAY_SCRATCH`, else /var/tmp/slipway (on disk, not tmpfs: upper dirs can be large).
    public static var defaultScratchDirectory: String {
        ProcessInfo.processInfo.environment["SLIPWAY_SCRATCH"] ?? "/var/tmp/slipway"
    }

    /// Runs one step over `lowerDirs` (topmost first; empty for `FROM scratch`).
    ///
    /// On success returns the unmounted snapshot: turn `upperDir` into a layer (unless
    /// `hasChanges` is false), then call `remove()`. On a non-zero exit throws
    /// `RuntimeError.processFailed` (exit code, tail of the output); on cancellation
    /// `CancellationError`. Nothing is left mounted or on disk when it throws.
    public func runStep(_ spec: RunSpec, lowerDirs: [String],
                        output: @escaping @Sendable (OutputLine) -> Void = { _ in }) async throws -> StepResult {
        let snapshot = try mountSnapshot(for: spec, lowerDirs: lowerDirs)
        do {
            let code = try await run(spec, rootfs: snapshot.mergedDir, bundleDir: spec.bundleDirectory ?? snapshot.directory + "/bundle", output: output)
            try snapshot.unmount()
            if code.exitCode != 0 {
                throw RuntimeError.processFailed(command: spec.args, exitCode: code.exitCode, lastLines: code.lastLines)
            }
            try keepMountDirectories(for: spec, in: snapshot)
            return StepResult(snapshot: snapshot, lastLines: code.lastLines, cpuSeconds: code.cpuSeconds)
        } catch {
            snapshot.remove()
            throw error
        }
    }

    /// Runs `spec` over `lowerDirs` and discards the snapshot whatever happens (`slipway run`).
    /// Returns the exit code instead of throwing for a non-zero one.
    public func runEphemeral(_ spec: RunSpec, lowerDirs: [String],
                             output: @escaping @Sendable (OutputLine) -> Void = { _ in }) async throws -> ProcessResult {
        let snapshot = try mountSnapshot(for: spec, lowerDirs: lowerDirs)
        defer { snapshot.remove() }
        try Self.checkExecutable(spec, rootfs: snapshot.mergedDir)
        return try await run(spec, rootfs: snapshot.mergedDir, bundleDir: snapshot.directory + "/bundle", output: output)
    }

    /// Throws `RuntimeError.cannotExecute` when `spec`'s command is missing from `rootfs` or not
    /// executable there, with runc's reason and Docker's exit status (127 missing, 126 not
    /// executable), so the user gets that instead of the runtime's log line. What this cannot
    /// see (a bad interpreter, a binary for another CPU) still fails in the runtime.
    static func checkExecutable(_ spec: RunSpec, rootfs: String) throws {
        guard let command = spec.args.first else { return }
        let path = (spec.env.last { $0.hasPrefix("PATH=") } ?? DockerDefaults.path).dropFirst(5)
        switch RootFS.findExecutable(root: rootfs, command, searchPath: String(path), cwd: containerDirectory(spec.workingDir)) {
        case .success: return
        case .failure(.notFoundInPath):
            throw RuntimeError.cannotExecute(command: command, reason: "executable file not found in $PATH", exitCode: 127)
        case .failure(.noSuchFile(let p)):
            throw RuntimeError.cannotExecute(command: command, reason: "stat \(p): no such file or directory", exitCode: 127)
        case .failure(.permissionDenied):
            throw RuntimeError.cannotExecute(command: command, reason: "permission denied", exitCode: 126)
        }
    }

    /// A working directory as the container sees it: absolute.
    static func containerDirectory(_ workingDir: String) -> String {
        workingDir.hasPrefix("/") ? workingDir : "/" + workingDir
    }

    /// A new snapshot over `lowerDirs`, mounted, with stubs for the mount points `spec` needs.
    public func mountSnapshot(for spec: RunSpec, lowerDirs: [String]) throws -> OverlaySnapshot {
        let snapshot = try OverlaySnapshot(lowerDirs: lowerDirs, in: scratchDirectory)
        do {
            let stubs = try makeStubLayer(for: spec, in: snapshot)
            try snapshot.mount(extraTopLowers: stubs.map { [$0] } ?? [])
            return snapshot
        } catch {
            snapshot.remove()
            throw error
        }
    }

    /// The outcome of one container process.
    public struct ProcessResult: Sendable {
        public var exitCode: Int32
        /// The last `tailLines` lines of combined stdout/stderr (empty when interactive).
        public var lastLines: [String]
        /// CPU time (user + system) of the runtime and the container's processes.
        public var cpuSeconds: Double = 0
    }

    /// Runs `spec` with `rootfs` (a directory or mounted snapshot) as the container's root and
    /// returns the exit code. `bundleDir` is created and holds config.json, hosts, resolv.conf.
    /// The container is always deleted afterwards, also on cancellation (then `CancellationError`).
    public func run(_ spec: RunSpec, rootfs: String, bundleDir: String,
                    output: @escaping @Sendable (OutputLine) -> Void = { _ in }) async throws -> ProcessResult {
        try Task.checkCancellation()
        try FileSystem.makeDirectory(bundleDir, mode: 0o700)
        let config = try makeConfig(spec, rootfs: rootfs, bundleDir: bundleDir)
        try FileIO.writeFile(Array((String(decoding: try config.encoded(), as: UTF8.self)).utf8), to: bundleDir + "/config.json", mode: 0o600)

        let id = "slipway-" + TempName.randomHex(8)
        let pid = CleanupRegistry.PIDBox()
        let token = try CleanupRegistry.shared.register(.container(id: id, runtime: runtime, pid: pid))
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(runtime.command(["run", "--bundle", bundleDir, id]),
                                           stdin: spec.interactive ? .inherit : .null,
                                           output: spec.interactive ? .inherit : .pipe,
                                           newProcessGroup: !spec.interactive)
        } catch {
            CleanupRegistry.shared.release(token)
            throw RuntimeError(error)
        }
        pid.value.store(child.pid, ordering: .releasing)

        let tail = tailLines
        let runtime = self.runtime
        let watch = EmulatedInitWatch(runtimePID: child.pid)
        let result: ProcessResult = try await withTaskCancellationHandler {
            try await runOffPool {
                var lines: [String] = []
                child.pumpLines { line in
                    lines.append(line.text)
                    if lines.count > tail { lines.removeFirst(lines.count - tail) }
                    watch.saw(line.text)
                    output(line)
                }
                let (code, cpu) = child.waitWithUsage()
                pid.value.store(0, ordering: .releasing)
                // An emulated init that died of a signal (and hung in QEMU until killed) ends as
                // the program did.
                let exit = watch.signal.map { 128 + $0 } ?? code
                return ProcessResult(exitCode: exit, lastLines: lines, cpuSeconds: cpu)
            }
        } onCancel: {
            // Killing the container ends `runtime run`, which ends the wait above.
            Thread { Self.stop(id: id, runtime: runtime, pid: pid) }.start()
        }

        // `runtime run` deletes the container when its process exits; only a killed or failed
        // runtime leaves state behind, which the registry's cleanup removes.
        if runtime.stateExists(id: id) {
            CleanupRegistry.shared.cleanUp(token)
        } else {
            CleanupRegistry.shared.release(token)
        }
        if Task.isCancelled { throw CancellationError() }
        return result
    }

    /// Removes what processes that no longer run (killed with SIGKILL, or a crash) left in
    /// `scratchDirectory` and in step scratch (`StaleWork`). Returns how many directories were
    /// removed. Safe while other slipway processes run.
    @discardableResult
    public func removeStale() -> Int {
        StaleWork.cleanUp(scratchDirectories: [scratchDirectory]).directories.count
    }

    /// Kills container `id`. Cancellation can come before the runtime has created it (then
    /// `kill` fails and would be lost), so retry until it works or `runtime run` has ended; after
    /// 5 s kill the runtime process itself (runc's init child dies with it).
    static func stop(id: String, runtime: ContainerRuntime, pid: CleanupRegistry.PIDBox) {
        for _ in 0..<100 {
            if pid.value.load(ordering: .acquiring) == 0 { return }
            if ChildProcess.runQuietly(runtime.command(["kill", id, "KILL"])) == 0 { return }
            usleep(50_000)
        }
        let p = pid.value.load(ordering: .acquiring)
        if p > 0 { kill(p, SIGKILL) }
    }

    // MARK: - Bundle

    func makeConfig(_ spec: RunSpec, rootfs: String, bundleDir: String) throws -> RuntimeConfig {
        let user = try ResolvedUser.resolve(spec.user,
                                            passwd: RootFS.readFile(root: rootfs, "/etc/passwd"),
                                            group: RootFS.readFile(root: rootfs, "/etc/group"))
        let cwd = Self.containerDirectory(spec.workingDir)
        try RootFS.makeDirectories(root: rootfs, cwd, uid: user.uid, gid: user.gid)

        var env = spec.env
        if !env.contains(where: { $0.hasPrefix("PATH=") }) { env.insert(DockerDefaults.path, at: 0) }
        if !env.contains(where: { $0.hasPrefix("HOME=") }) { env.append("HOME=" + user.home) }

        try FileIO.writeFile(Array((Self.hostsFile(hostname: spec.hostname)).utf8), to: bundleDir + "/hosts")
        try FileIO.writeFile(Array((Self.resolvConf(network: spec.network)).utf8), to: bundleDir + "/resolv.conf")
        var mounts = DockerDefaults.mounts
        mounts.append(.init(destination: "/etc/hosts", type: "bind", source: bundleDir + "/hosts", options: ["rbind", "ro"]))
        mounts.append(.init(destination: "/etc/resolv.conf", type: "bind", source: bundleDir + "/resolv.conf", options: ["rbind", "ro"]))
        if spec.trustHostCertificates, access(Self.caBundle, R_OK) == 0 {
            var st = stat()
            if lstat(RootFS.resolve(root: rootfs, Self.caBundle), &st) == 0, (st.st_mode & S_IFMT) == S_IFREG {
                mounts.append(.init(destination: Self.caBundle, type: "bind", source: Self.caBundle, options: ["rbind", "ro"]))
            }
        }
        for m in spec.mounts {
            mounts.append(.init(destination: m.destination, type: "bind", source: m.source,
                                options: ["rbind", m.readOnly ? "ro" : "rw"]))
        }
        for t in spec.tmpfs {
            mounts.append(.init(destination: t.destination, type: "tmpfs", source: "tmpfs",
                                options: ["nosuid", "nodev", "mode=1777"] + (t.sizeLimit.map { ["size=\($0)"] } ?? [])))
        }

        var namespaces = ["pid", "ipc", "uts", "mount"].map(RuntimeConfig.Namespace.init)
        if spec.network == .none { namespaces.append(.init(type: "network")) }

        // Docker gives non-root users only the bounding set (execve would drop the rest anyway).
        let caps = spec.insecure ? DockerDefaults.allCapabilities : DockerDefaults.capabilities
        let capabilities = user.uid == 0
            ? RuntimeConfig.Capabilities(bounding: caps, effective: caps, permitted: caps)
            : RuntimeConfig.Capabilities(bounding: caps, effective: [], permitted: [])

        return RuntimeConfig(
            process: .init(user: .init(uid: user.uid, gid: user.gid,
                                       additionalGids: user.additionalGids.isEmpty ? nil : user.additionalGids),
                           args: spec.args, env: env, cwd: cwd, capabilities: capabilities,
                           rlimits: [Self.nofileLimit]),
            root: .init(path: rootfs),
            hostname: spec.hostname,
            mounts: mounts,
            linux: .init(namespaces: namespaces, maskedPaths: spec.insecure ? [] : DockerDefaults.maskedPaths,
                         readonlyPaths: spec.insecure ? [] : DockerDefaults.readonlyPaths,
                         resources: .init(devices: DockerDefaults.devices)))
    }

    static let caBundle = "/etc/ssl/certs/ca-certificates.crt"

    /// Docker's containers get NOFILE 1048576 (from containerd's unit); we cannot raise our own
    /// hard limit, so we use the lower of the two.
    static var nofileLimit: RuntimeConfig.Rlimit {
        var rl = rlimit()
        var hard: UInt64 = 1_048_576
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &rl) == 0, rl.rlim_max != rlim_t.max {
            hard = min(hard, UInt64(rl.rlim_max))
        }
        return .init(type: "RLIMIT_NOFILE", hard: hard, soft: hard)
    }

    static func hostsFile(hostname: String) -> String {
        "127.0.0.1\tlocalhost \(hostname)\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    }

    /// The host's resolvers. Without the host network, loopback resolvers (a local stub such as
    /// systemd-resolved) are unreachable and dropped.
    static func resolvConf(network: NetworkMode) -> String {
        let host = FileIO.readText("/etc/resolv.conf") ?? ""
        guard network == .none else { return host }
        return host.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return !(words.first == "nameserver" && words.count > 1 && (words[1].hasPrefix("127.") || words[1] == "::1"))
        }.joined(separator: "\n")
    }

    // MARK: - Mount-point stubs

    /// Destinations the runtime mounts onto. If one is missing from the image, runc would create
    /// it in the root (the upper dir); we create it in a stub layer instead.
    func mountPoints(for spec: RunSpec) -> [(path: String, isDirectory: Bool)] {
        var points: [(String, Bool)] = [("/proc", true), ("/dev", true), ("/sys", true),
                                        ("/etc/hosts", false), ("/etc/resolv.conf", false)]
        for m in spec.mounts {
            var st = stat()
            let isDir = stat(m.source, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
            points.append((m.destination, isDir))
        }
        for t in spec.tmpfs { points.append((t.destination, true)) }
        return points
    }

    /// What BuildKit's runtime leaves in a RUN step's layer: the directories it created for the
    /// step's `--mount` targets (a directory target itself, a file target's parents) when the
    /// image lacks them, empty, 0755, owned by root (moby/buildkit#7039 keeps them on purpose).
    /// The container saw them through the stub layer below; here they are added to the upper
    /// directory. Files (a secret's target) and the runtime's own mount points (/proc, /dev,
    /// /sys, /etc/hosts, /etc/resolv.conf) stay out, as in BuildKit.
    func keepMountDirectories(for spec: RunSpec, in snapshot: OverlaySnapshot) throws {
        var targets: [(path: String, isDirectory: Bool)] = []
        for m in spec.mounts {
            var st = stat()
            targets.append((m.destination, stat(m.source, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR))
        }
        for t in spec.tmpfs { targets.append((t.destination, true)) }
        let system = ["/proc", "/dev", "/sys"]
        for target in targets where !system.contains(where: { target.path == $0 || target.path.hasPrefix($0 + "/") }) {
            var components = target.path.split(separator: "/").map(String.init)
            if !target.isDirectory { components.removeLast() }
            var prefix = ""
            // Directories of the image on the way that the upper dir lacks: copied up (same
            // mode, owner and times, as overlayfs would) only if something is made below them.
            var copyUps: [String] = []
            for component in components {
                prefix += "/" + component
                let host = snapshot.upperDir + prefix
                var st = stat()
                if lstat(host, &st) == 0 {
                    // Already in the layer (a whiteout or a file there means the step removed
                    // or replaced it: nothing to keep below).
                    guard (st.st_mode & S_IFMT) == S_IFDIR else { break }
                    continue
                }
                if LowerStack.lookup(snapshot.lowerDirs, prefix) != nil {
                    copyUps.append(prefix)
                    continue
                }
                for dir in copyUps { try copyUp(dir, in: snapshot) }
                copyUps = []
                try FileSystem.makeDirectory(host)
                chmod(host, 0o755)
            }
        }
    }

    /// An image directory made in the upper dir with the topmost lower's mode, owner and times.
    func copyUp(_ path: String, in snapshot: OverlaySnapshot) throws {
        let host = snapshot.upperDir + path
        try FileSystem.makeDirectory(host)
        guard let source = snapshot.lowerDirs.lazy.map({ $0 + path }).first(where: { var s = stat(); return lstat($0, &s) == 0 }) else { return }
        var s = stat()
        guard lstat(source, &s) == 0 else { return }
        chmod(host, s.st_mode & 0o7777)
        lchown(host, s.st_uid, s.st_gid)
        var times = [s.st_atim, s.st_mtim]
        utimensat(AT_FDCWD, host, &times, AT_SYMLINK_NOFOLLOW)
    }

    /// Creates `snapshot/init` with the missing mount points (parents copy their metadata from
    /// the image where they exist there). Returns nil when nothing is missing.
    func makeStubLayer(for spec: RunSpec, in snapshot: OverlaySnapshot) throws -> String? {
        let lowers = snapshot.lowerDirs
        let missing = mountPoints(for: spec).filter { LowerStack.lookup(lowers, $0.path) == nil }
        guard !missing.isEmpty else { return nil }
        let root = snapshot.directory + "/init"
        try FileSystem.makeDirectory(root)
        var copyMetadata: [(source: String, host: String)] = []
        for point in missing {
            let components = point.path.split(separator: "/").map(String.init)
            var prefix = ""
            for (index, component) in components.enumerated() {
                prefix += "/" + component
                let host = root + prefix
                let last = index == components.count - 1
                if last && !point.isDirectory {
                    try FileIO.writeFile(Array(("").utf8), to: host, mode: 0o644)
                    continue
                }
                var st = stat()
                if lstat(host, &st) == 0 { continue }
                try FileSystem.makeDirectory(host)
                if !last, let source = lowers.lazy.map({ $0 + prefix }).first(where: { var s = stat(); return lstat($0, &s) == 0 }) {
                    copyMetadata.append((source, host))
                }
            }
        }
        // After all stubs exist (creating them touched their parents' mtimes), deepest first.
        for (source, host) in copyMetadata.reversed() {
            var s = stat()
            guard lstat(source, &s) == 0, (s.st_mode & S_IFMT) == S_IFDIR else { continue }
            chmod(host, s.st_mode & 0o7777)
            lchown(host, s.st_uid, s.st_gid)
            var times = [s.st_atim, s.st_mtim]
            utimensat(AT_FDCWD, host, &times, AT_SYMLINK_NOFOLLOW)
        }
        return root
    }
}

/// A finished step: its snapshot is unmounted, its upper dir holds the changes.
public struct StepResult: Sendable {
    public let snapshot: OverlaySnapshot
    /// The tail of the step's output.
    public let lastLines: [String]
    /// CPU time the step's processes used (`ChildProcess.waitWithUsage`).
    public var cpuSeconds: Double = 0

    /// The step's changes, in overlayfs form (whiteouts are char 0:0, opaque dirs carry
    /// trusted.overlay.opaque=y): the input of the layer writer.
    public var upperDir: String { snapshot.upperDir }
    /// False when the step changed nothing (the upper dir is empty): no layer is needed.
    public var hasChanges: Bool { snapshot.hasChanges() }
    /// Deletes the snapshot (call after the layer was written).
    public func remove() { snapshot.remove() }
}

extension ContainerRuntime {
    /// Whether the runtime still has state for `id`, checked on disk (no process spawn).
    func stateExists(id: String) -> Bool {
        let root = stateRoot ?? (kind == .runc ? "/run/runc" : "/run/crun")
        return access(root + "/" + id, F_OK) == 0
    }
}
