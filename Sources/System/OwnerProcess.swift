#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Whether the process that owns a pid-named lease, temp file or scratch directory still runs:
/// the one rule the store's GC and the build's stale-work cleanup (`StaleWork`) share.
public enum OwnerProcess {
    /// True while `pid` exists and is not a zombie (killed, not yet reaped by its parent: its
    /// leases, mounts and containers are as orphaned as those of a reaped process).
    public static func isRunning(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = FileIO.readText("/proc/\(pid)/stat"),
              let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(after: close)...].drop { $0 == " " }.first
        return state != "Z" && state != "X"
    }
}
