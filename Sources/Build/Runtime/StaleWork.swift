#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI
import System

/// What processes killed with SIGKILL (or crashed) left behind: overlay mounts and snapshot
/// directories in a scratch directory, step scratch on tmpfs (secret files, heredoc scripts,
/// bundles whose config.json holds env secrets), and the runtime's containers of those bundles,
/// which may still be running. Everything this module creates carries its creator's pid in its
/// name (`<prefix>-<pid>-<hex>`, `CleanupRegistry.makeDirectory`), so a later process can
/// tell a dead owner from a live concurrent build and clean only the former. Every command
/// that opens the store runs `cleanUp` first (`StoreOptions.open`); `fsck` reports what it did.
public enum StaleWork {
    /// Name prefixes of the directories this module makes.
    static let prefixes = ["snap-", "slipway-step-"]

    public struct Report: Sendable, Equatable {
        public var directories: [String] = []
        public var containers: [String] = []
        public var mounts: [String] = []
        public var isEmpty: Bool { directories.isEmpty && containers.isEmpty && mounts.isEmpty }
        /// One line per thing removed, for `fsck`.
        public var lines: [String] {
            containers.map { "killed and deleted container \($0) of a stopped process" }
                + mounts.map { "unmounted \($0) (left by a stopped process)" }
                + directories.map { "removed \($0) (left by a stopped process)" }
        }
    }

    /// The pid in a name this module made, if it has that form.
    static func ownerPID(_ name: String) -> Int32? {
        guard let prefix = prefixes.first(where: { name.hasPrefix($0) }) else { return nil }
        let rest = name.dropFirst(prefix.count).split(separator: "-")
        guard rest.count == 2, let pid = Int32(rest[0]), pid > 0 else { return nil }
        return pid
    }

    /// Cleans what dead processes left in `scratchDirectories` and in the tmpfs base of step
    /// scratch. Safe while other slipway processes run: only dead owners' things are touched.
    @discardableResult
    public static func cleanUp(scratchDirectories: [String]) -> Report {
        var bases = scratchDirectories
        if let shm = StepScratch.tmpfsBase() { bases.append(shm) }
        var stale: [String] = []
        for base in Set(bases) {
            for name in (try? FileSystem.entries(base)) ?? [] {
                guard let pid = ownerPID(name), !OwnerProcess.isRunning(pid) else { continue }
                stale.append(base + "/" + name)
            }
        }
        var report = Report()
        guard !stale.isEmpty else { return report }
        // Containers first (their processes hold the mounts), in every runtime installed here.
        for kind in ContainerRuntime.Kind.allCases {
            guard let runtime = try? ContainerRuntime.find(kind) else { continue }
            for container in runtime.listContainers() where stale.contains(where: { container.bundle.hasPrefix($0 + "/") }) {
                runtime.forceRemove(id: container.id)
                report.containers.append(container.id)
            }
        }
        let mountPoints = (FileIO.readText("/proc/self/mountinfo") ?? "").split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            return fields.count > 4 ? String(fields[4]) : nil
        }
        for point in mountPoints.reversed() where stale.contains(where: { point.hasPrefix($0 + "/") || point == $0 }) {
            if umount2(point, Int32(MNT_DETACH)) == 0 { report.mounts.append(point) }
        }
        for dir in stale {
            try? FileSystem.removeTree(dir)
            report.directories.append(dir)
        }
        return report
    }
}
