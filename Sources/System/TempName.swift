#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Names of temporary files and directories that carry the pid of the process making them
/// (`<pid>-<n>-<random><suffix>`), so that what a killed process left (SIGKILL, power loss)
/// can be told from what a live one is still writing (`OwnerProcess.isRunning`).
public enum TempName {
    private static let counter = Atomic<UInt64>(0)

    /// A fresh path in `dir`: the pid, a per-process counter and a random part.
    public static func path(in dir: String, suffix: String = ".tmp") -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        let rnd = UInt64.random(in: 0...UInt64.max)
        return "\(dir)/\(getpid())-\(n)-\(String(rnd, radix: 36))\(suffix)"
    }

    /// The pid a name made by `path(in:suffix:)` carries, if it has that form.
    public static func ownerPID(of name: String) -> Int32? {
        guard let dash = name.firstIndex(of: "-") else { return nil }
        return Int32(name[..<dash])
    }
}
