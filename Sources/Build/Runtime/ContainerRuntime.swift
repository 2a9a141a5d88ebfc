#if canImport(Glibc)
import Glibc
#endif
import Foundation
import System

/// An OCI runtime binary and how to call it on this host.
///
/// runc 1.1 works on the hybrid (v1 + v2 "unified") cgroup layout as is. crun 1.8 refuses it
/// ("cgroups in hybrid mode not supported"), so every crun call is wrapped in a private mount
/// namespace that hides /sys/fs/cgroup/unified (see docs/ARCHITECTURE.md and the runtime notes).
public struct ContainerRuntime: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case runc, crun }

    public var kind: Kind
    /// Absolute path of the runtime binary.
    public var executable: String
    /// The runtime's state directory (`--root`); nil uses its default (/run/runc, /run/crun).
    public var stateRoot: String?

    public init(kind: Kind, executable: String, stateRoot: String? = nil) {
        self.kind = kind
        self.executable = executable
        self.stateRoot = stateRoot
    }

    /// Finds `kind` in PATH. Throws `RuntimeError.runtimeNotFound` when it is not installed.
    public static func find(_ kind: Kind = .runc, stateRoot: String? = nil) throws -> ContainerRuntime {
        guard let path = ChildProcess.which(kind.rawValue) else { throw RuntimeError.runtimeNotFound(kind.rawValue) }
        return ContainerRuntime(kind: kind, executable: path, stateRoot: stateRoot)
    }

    /// Parses a `--runtime` value ("runc" or "crun").
    public static func named(_ name: String) throws -> ContainerRuntime {
        guard let kind = Kind(rawValue: name) else {
            throw RuntimeError.unknownRuntime(name)
        }
        return try find(kind)
    }

    /// The full argv for `runtime [--root R] args...`, wrapped for crun on hybrid cgroups.
    func command(_ args: [String]) -> [String] {
        var argv = [executable]
        if let root = stateRoot { argv += ["--root", root] }
        argv += args
        guard kind == .crun, Self.needsCgroupWorkaround, let unshare = ChildProcess.which("unshare") else { return argv }
        // `exec` keeps the pid: the process we spawned is crun itself after two execs.
        let script = "umount /sys/fs/cgroup/unified 2>/dev/null; exec \"$@\""
        return [unshare, "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "sh"] + argv
    }

    /// True on the hybrid layout crun rejects: /sys/fs/cgroup/unified is a cgroup2 mount with
    /// controllers enabled while /sys/fs/cgroup itself is not cgroup2.
    static let needsCgroupWorkaround: Bool = {
        // A pure cgroup2 host has cgroup.controllers at the top: nothing to hide.
        guard access("/sys/fs/cgroup/cgroup.controllers", F_OK) != 0 else { return false }
        guard let fd = fopen("/sys/fs/cgroup/unified/cgroup.controllers", "r") else { return false }
        defer { fclose(fd) }
        var line = [CChar](repeating: 0, count: 256)
        guard fgets(&line, Int32(line.count), fd) != nil else { return false }
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }()

    /// Stops and removes container `id` whatever state it is in. Never throws: this runs on error,
    /// cancellation and exit paths, where the container may already be gone.
    func forceRemove(id: String) {
        ChildProcess.runQuietly(command(["kill", id, "KILL"]))
        ChildProcess.runQuietly(command(["delete", "--force", id]))
    }

    /// True if the runtime still has state for `id`.
    func hasState(id: String) -> Bool {
        ChildProcess.runQuietly(command(["state", id])) == 0
    }

    /// The containers the runtime knows: id and bundle directory (`runc list --format json`).
    public func listContainers() -> [(id: String, bundle: String)] {
        // `runc list` fails when a container's state vanishes while it reads it; retry then.
        var attempt = 0
        var output: String?
        while output == nil && attempt < 10 {
            attempt += 1
            if let result = try? ChildProcess.runCapturing(command(["list", "--format", "json"]), stdoutOnly: true), result.code == 0 {
                output = result.output
            } else {
                usleep(20_000)
            }
        }
        guard let output,
              let json = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] else { return [] }
        return json.compactMap { entry in
            guard let id = entry["id"] as? String else { return nil }
            return (id, entry["bundle"] as? String ?? "")
        }
    }
}
