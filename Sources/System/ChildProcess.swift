#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// One line of a child's output, as it arrives.
public struct OutputLine: Sendable, Equatable {
    public enum Stream: Sendable, Equatable { case stdout, stderr }
    public var stream: Stream
    public var text: String
    public init(stream: Stream, text: String) {
        self.stream = stream
        self.text = text
    }
}

/// A child process started with posix_spawn: the one way every module runs a program (runc,
/// mount, tar's decompressors, git). We spawn ourselves (rather than through Foundation.Process)
/// to control the signal state the child inherits (we catch SIGINT/SIGTERM/SIGPIPE for our
/// handlers; the child must get the defaults), its process group, and its stdio.
public struct ChildProcess: Sendable {
    /// `pipe`: the child reads a pipe whose write end is `stdinFD` (close it to send EOF).
    public enum Stdin: Sendable { case null, inherit, pipe }
    public enum Output: Sendable { case pipe, inherit, null }

    public let pid: pid_t

    /// Glibc here does not expose pipe2(O_CLOEXEC), so a pipe is created and then marked
    /// close-on-exec under this lock, and spawns take it too: no child of ours can inherit the
    /// other end of another child's pipe (which would keep that pipe open past its writer's exit).
    static let spawnLock = Mutex(())

    /// A pipe whose two ends are close-on-exec, made under `spawnLock` so that no child spawned
    /// meanwhile inherits either end.
    static func closeOnExecPipe(for program: String) throws(SystemError) -> [Int32] {
        var fds: [Int32] = [0, 0]
        let made = spawnLock.withLock { _ -> Int32 in
            guard pipe(&fds) == 0 else { return errno }
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
            return 0
        }
        if made != 0 { throw SystemError(operation: "pipe", path: program, errno: made) }
        return fds
    }
    /// Read ends of the stdout/stderr pipes, if piped; the caller closes them (`pumpLines` and
    /// `collectOutput` do).
    public let stdoutFD: Int32?
    public let stderrFD: Int32?
    /// The write end of the child's stdin with `stdin: .pipe` (close-on-exec); the caller closes it.
    public let stdinFD: Int32?

    /// Starts `argv` (argv[0] must be an absolute path; a missing one throws a `SystemError`
    /// with ENOENT). `newProcessGroup` keeps terminal signals (Ctrl-C) away from the child, so
    /// that we decide how it is stopped. `environment` replaces ours when given.
    public static func spawn(_ argv: [String], stdin: Stdin = .null, output: Output = .pipe,
                             newProcessGroup: Bool = true,
                             environment: [String: String]? = nil) throws(SystemError) -> ChildProcess {
        precondition(!argv.isEmpty)
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }

        var flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        if newProcessGroup { flags |= Int32(POSIX_SPAWN_SETPGROUP) }
        posix_spawnattr_setflags(&attr, Int16(flags))
        posix_spawnattr_setpgroup(&attr, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD] { sigaddset(&defaults, sig) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)

        var toClose: [Int32] = []
        defer { for fd in toClose { close(fd) } }
        var inWrite: Int32?
        switch stdin {
        case .null: posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        case .inherit: break
        case .pipe:
            let fds = try Self.closeOnExecPipe(for: argv[0])
            posix_spawn_file_actions_adddup2(&fileActions, fds[0], 0)
            toClose.append(fds[0])
            inWrite = fds[1]
        }
        var outRead: Int32?
        var errRead: Int32?
        switch output {
        case .inherit:
            break
        case .null:
            posix_spawn_file_actions_addopen(&fileActions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&fileActions, 2, "/dev/null", O_WRONLY, 0)
        case .pipe:
            for target in [Int32(1), Int32(2)] {
                let fds: [Int32]
                do { fds = try Self.closeOnExecPipe(for: argv[0]) } catch {
                    if let fd = outRead { close(fd) }
                    if let fd = inWrite { close(fd) }
                    throw error
                }
                posix_spawn_file_actions_adddup2(&fileActions, fds[1], target)
                toClose.append(fds[1])
                if target == 1 { outRead = fds[0] } else { errRead = fds[0] }
            }
        }

        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        // Empty: the child inherits our environment.
        var cEnv: [UnsafeMutablePointer<CChar>?] = environment.map { env in
            env.sorted { $0.key < $1.key }.map { strdup($0.key + "=" + $0.value) } + [nil]
        } ?? []
        defer { for p in cEnv { free(p) } }
        var pid: pid_t = 0
        let rc = Self.spawnLock.withLock { _ -> Int32 in
            if cEnv.isEmpty { return posix_spawn(&pid, argv[0], &fileActions, &attr, &cArgs, environ) }
            return posix_spawn(&pid, argv[0], &fileActions, &attr, &cArgs, &cEnv)
        }
        guard rc == 0 else {
            if let fd = outRead { close(fd) }
            if let fd = errRead { close(fd) }
            if let fd = inWrite { close(fd) }
            throw SystemError(operation: "spawn", path: argv[0], errno: rc)
        }
        return ChildProcess(pid: pid, stdoutFD: outRead, stderrFD: errRead, stdinFD: inWrite)
    }

    /// Waits for the child and returns its exit code (128+signal when killed, as shells report it).
    public func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        return Self.exitCode(status)
    }

    /// Waits for the child like `wait()`, and returns the CPU time (user + system) it and every
    /// descendant it reaped used: for `runc run`, which reaps the container's processes, the
    /// CPU time of the whole step.
    public func waitWithUsage() -> (code: Int32, cpuSeconds: Double) {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            if errno != EINTR { return (-1, 0) }
        }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return (Self.exitCode(status), seconds(usage.ru_utime) + seconds(usage.ru_stime))
    }

    public static func exitCode(_ status: Int32) -> Int32 {
        let sig = status & 0x7f
        if sig == 0 { return (status >> 8) & 0xff }
        return 128 + sig
    }

    /// Reads stdout and stderr until both close, calling `onLine` for each complete line
    /// (and a last unterminated one). Blocks the calling thread; run it off the cooperative pool.
    public func pumpLines(_ onLine: (OutputLine) -> Void) {
        var fds: [(fd: Int32, stream: OutputLine.Stream, pending: [UInt8])] = []
        if let fd = stdoutFD { fds.append((fd, .stdout, [])) }
        if let fd = stderrFD { fds.append((fd, .stderr, [])) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        func emit(_ bytes: ArraySlice<UInt8>, _ stream: OutputLine.Stream) {
            var line = bytes
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            onLine(OutputLine(stream: stream, text: String(decoding: line, as: UTF8.self)))
        }
        while !fds.isEmpty {
            var pollfds = fds.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let n = poll(&pollfds, nfds_t(pollfds.count), -1)
            if n < 0 {
                if errno == EINTR { continue }
                for entry in fds { close(entry.fd) }
                return
            }
            var closed: [Int] = []
            for i in pollfds.indices where pollfds[i].revents != 0 {
                let got = read(fds[i].fd, &buffer, buffer.count)
                if got < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if got <= 0 {
                    if !fds[i].pending.isEmpty { emit(fds[i].pending[...], fds[i].stream) }
                    closed.append(i)
                    continue
                }
                fds[i].pending.append(contentsOf: buffer[0..<got])
                var start = 0
                let pending = fds[i].pending
                while let nl = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    emit(pending[start..<nl], fds[i].stream)
                    start = nl + 1
                }
                if start > 0 { fds[i].pending.removeFirst(start) }
                if fds[i].pending.count > 1 << 20 {   // a megabyte without a newline: flush it
                    emit(fds[i].pending[...], fds[i].stream)
                    fds[i].pending.removeAll()
                }
            }
            for i in closed.reversed() {
                close(fds[i].fd)
                fds.remove(at: i)
            }
        }
    }

    /// Runs `argv` to completion, discarding output, and returns its exit code. For short helper
    /// commands (runc kill/delete) that must work from signal-handling and exit paths.
    @discardableResult
    public static func runQuietly(_ argv: [String]) -> Int32 {
        guard let child = try? spawn(argv, output: .null) else { return -1 }
        return child.wait()
    }

    /// Runs `argv` to completion and returns its exit code and combined output.
    public static func runCapturing(_ argv: [String], stdoutOnly: Bool = false) throws(SystemError) -> (code: Int32, output: String) {
        let child = try spawn(argv)
        var text = ""
        child.pumpLines { if !stdoutOnly || $0.stream == .stdout { text += $0.text + "\n" } }
        return (child.wait(), text)
    }

    /// Looks `name` up in PATH (plus the sbin directories, which root's PATH may lack, unless
    /// `pathOnly`: a user's tool such as `docker` is used only when their PATH names it).
    public static func which(_ name: String, pathOnly: Bool = false) -> String? {
        if name.hasPrefix("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let dirs = path.split(separator: ":").map(String.init)
            + (pathOnly ? [] : ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"])
        for dir in dirs where !dir.isEmpty {
            let candidate = dir + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
