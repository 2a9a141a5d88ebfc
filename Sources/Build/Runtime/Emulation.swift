#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI
import Synchronization
import System

/// Running another CPU's programs in a RUN step: QEMU user emulation registered with the kernel's
/// binfmt_misc. Nothing is passed to the runtime: the kernel runs a foreign ELF binary through
/// the registered interpreter. The entry must have the F ("fix binary") flag, so the kernel
/// opened the interpreter when it was registered and the container's root need not hold it
/// (Debian's qemu-user-static registers `qemu-<cpu>` entries with F through binfmt-support).
public enum Emulation {
    /// Where binfmt_misc is mounted: `$SLIPWAY_BINFMT_MISC` (for tests and unusual mounts), else
    /// /proc/sys/fs/binfmt_misc.
    public static var binfmtDirectory: String {
        ProcessInfo.processInfo.environment["SLIPWAY_BINFMT_MISC"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "/proc/sys/fs/binfmt_misc"
    }

    /// Whether programs of `platform` run here without emulation (same CPU, or 386 on amd64).
    public static func isNative(_ platform: Platform, host: Platform = .host) -> Bool {
        let p = platform.normalized, h = host.normalized
        guard p.os == h.os else { return false }
        if p.architecture == h.architecture { return true }
        return h.architecture == "amd64" && p.architecture == "386"
    }

    /// QEMU's name for an OCI architecture (`qemu-<name>`, `/usr/lib/binfmt.d/qemu-<name>.conf`).
    public static func qemuName(architecture: String) -> String {
        switch architecture {
        case "amd64": "x86_64"
        case "386": "i386"
        case "arm64": "aarch64"
        case "mips64le": "mips64el"
        case "mipsle": "mipsel"
        case "loong64": "loongarch64"
        default: architecture
        }
    }

    /// The registered interpreter that runs `platform`'s programs, as `qemu-<name>` (for
    /// messages); throws `EmulationError` saying what is missing and how to install or
    /// register it. Reads binfmt_misc, never writes it.
    /// `subject` names what has the platform in the message ("this stage's platform").
    public static func interpreter(for platform: Platform, subject: String = "this stage's platform",
                                   directory: String = Emulation.binfmtDirectory) throws -> String {
        let p = Platform(os: platform.os, architecture: platform.architecture, variant: platform.variant).normalized
        let s = subject
        guard p.os == "linux" else { throw EmulationError.notLinux(subject: s, platform: p.description) }
        let name = "qemu-" + qemuName(architecture: p.architecture)
        guard FileSystem.exists(directory + "/register") else {
            throw EmulationError.notMounted(subject: s, platform: p.description, interpreter: name, directory: directory)
        }
        guard let (entry, text) = findEntry(name, in: directory) else {
            throw EmulationError.notRegistered(subject: s, platform: p.description, interpreter: name, directory: directory)
        }
        let lines = text.split(separator: "\n").map(String.init)
        if lines.first != "enabled" {
            throw EmulationError.disabled(subject: s, platform: p.description, interpreter: name, entry: directory + "/" + entry)
        }
        let flags = lines.first { $0.hasPrefix("flags:") }.map { String($0.dropFirst("flags:".count)).trimmingCharacters(in: .whitespaces) } ?? ""
        guard flags.contains("F") else {
            let interpreter = lines.first { $0.hasPrefix("interpreter ") }.map { String($0.dropFirst("interpreter ".count)) } ?? name
            throw EmulationError.noFixBinaryFlag(subject: s, platform: p.description, interpreter: interpreter, entry: directory + "/" + entry, flags: flags)
        }
        return name
    }

    /// The entry named `name`, else one whose interpreter is `name`, `name`-static or Debian's
    /// `<cpu>-binfmt-P` wrapper; with its text.
    static func findEntry(_ name: String, in directory: String) -> (String, String)? {
        if let text = FileIO.readText(directory + "/" + name) { return (name, text) }
        let cpu = String(name.dropFirst("qemu-".count))
        for entry in (try? FileSystem.entries(directory)) ?? [] where entry != "register" && entry != "status" {
            guard let text = FileIO.readText(directory + "/" + entry),
                  let line = text.split(separator: "\n").first(where: { $0.hasPrefix("interpreter ") }) else { continue }
            let base = line.split(separator: "/").last.map(String.init) ?? ""
            if base == name || base == name + "-static" || base.hasPrefix(cpu + "-binfmt") { return (entry, text) }
        }
        return nil
    }

    /// A note for a RUN that died of a signal under emulation (128 + signal), nil otherwise.
    public static func crashNote(status: Int32, interpreter: String) -> String? {
        let names: [Int32: String] = [4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 11: "SIGSEGV"]
        guard status > 128, let signal = names[status - 128] else { return nil }
        return "the step ran under emulation (\(interpreter)) and was killed by \(signal): a crash of the program or of QEMU's "
            + "emulation, not of Slipway; try the step on a native machine or a newer qemu-user-static"
    }
}

/// Why a foreign platform's RUN cannot be emulated here.
public enum EmulationError: Error, CustomStringConvertible, Equatable {
    case notLinux(subject: String, platform: String)
    case notMounted(subject: String, platform: String, interpreter: String, directory: String)
    case notRegistered(subject: String, platform: String, interpreter: String, directory: String)
    case disabled(subject: String, platform: String, interpreter: String, entry: String)
    case noFixBinaryFlag(subject: String, platform: String, interpreter: String, entry: String, flags: String)

    static func install(_ interpreter: String) -> String {
        "install and register it: apt-get install qemu-user-static binfmt-support (registers \(interpreter) with the F flag), "
            + "or write the line of /usr/lib/binfmt.d/\(interpreter).conf to /proc/sys/fs/binfmt_misc/register"
    }

    public var description: String {
        switch self {
        case .notLinux(let s, let p):
            return "\(s) is \(p): only Linux programs can run here"
        case .notMounted(let s, let p, let i, let d):
            return "\(s) is \(p), which needs the emulator \(i), but binfmt_misc is not mounted at \(d): "
                + "mount -t binfmt_misc binfmt_misc \(d), then " + Self.install(i)
        case .notRegistered(let s, let p, let i, let d):
            return "\(s) is \(p), which needs the emulator \(i), and none is registered in binfmt_misc (\(d)/\(i)): "
                + Self.install(i)
        case .disabled(let s, let p, let i, let e):
            return "\(s) is \(p), which needs the emulator \(i), and its binfmt_misc entry \(e) is disabled: echo 1 > \(e)"
        case .noFixBinaryFlag(let s, let p, let i, let e, let f):
            return "\(s) is \(p); its emulator \(i) is registered (\(e)) without the F flag (flags: \(f.isEmpty ? "none" : f)), "
                + "so the kernel looks for \(i) inside the container's root, where it is not: register it again with F "
                + "(as qemu-user-static's /usr/lib/binfmt.d files do)"
        }
    }
}

/// Watches one RUN for QEMU's "uncaught target signal" line. QEMU reports an emulated program's
/// fatal signal by re-raising it on itself and waiting in sigsuspend with every other signal
/// blocked; when that process is the container's init (PID 1 of its namespace) the kernel drops
/// the signal and it waits forever. So after that line, if the runtime's child (the container's
/// init) is in exactly that wait, it is killed from the host and the step ends as the program
/// did: 128 + the signal. A shell's own sigsuspend (a `wait` builtin) has other signals
/// unblocked and is left alone.
final class EmulatedInitWatch: Sendable {
    let runtimePID: pid_t
    private let state = Mutex<(started: Bool, signal: Int32?)>((false, nil))

    init(runtimePID: pid_t) { self.runtimePID = runtimePID }

    /// The signal the hung init was killed for, if it was.
    var signal: Int32? { state.withLock { $0.signal } }

    /// Called for each output line of the step.
    func saw(_ line: String) {
        let prefix = "qemu: uncaught target signal "
        guard line.hasPrefix(prefix),
              let n = Int32(line.dropFirst(prefix.count).prefix { $0.isNumber }), n > 0, n < 32 else { return }
        let start = state.withLock { s -> Bool in
            if s.started { return false }
            s.started = true
            return true
        }
        guard start else { return }
        let runtimePID = runtimePID
        Thread { [self] in
            for _ in 0..<30 {
                usleep(100_000)
                guard kill(runtimePID, 0) == 0 else { return }
                for pid in Self.children(of: runtimePID) where Self.isHungReRaising(pid: pid, signal: n) {
                    state.withLock { $0.signal = n }
                    kill(pid, SIGKILL)
                    return
                }
            }
            // Allow a later crash of the same step to be watched too.
            state.withLock { $0.started = false }
        }.start()
    }

    /// Direct children of `pid` (from /proc/<pid>/task/*/children, else a scan of /proc).
    static func children(of pid: pid_t) -> [pid_t] {
        var out: [pid_t] = []
        for task in (try? FileSystem.entries("/proc/\(pid)/task")) ?? [] {
            let text = FileIO.readText("/proc/\(pid)/task/\(task)/children") ?? ""
            out += text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        return out
    }

    /// In sigsuspend with every catchable signal but `signal` blocked (QEMU's dump_core_and_abort).
    static func isHungReRaising(pid: pid_t, signal: Int32) -> Bool {
        guard let wchan = FileIO.readText("/proc/\(pid)/wchan"), wchan.contains("sigsuspend"),
              let status = FileIO.readText("/proc/\(pid)/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigBlk:") }),
              let mask = UInt64(line.dropFirst("SigBlk:".count).trimmingCharacters(in: .whitespaces), radix: 16) else { return false }
        for s in Int32(1)...31 where s != SIGKILL && s != SIGSTOP {
            let blocked = mask & (UInt64(1) << UInt64(s - 1)) != 0
            if blocked == (s == signal) { return false }
        }
        return true
    }
}
