import Foundation
import TestSupport

/// A private dockerd 20.10 (BuildKit 0.8) for one test run, driven through `/usr/bin/docker`
/// (Debian's docker.io CLI; `/usr/local/bin/docker` on this machine is something else).
///
/// `dockerd-session.sh` owns the daemon's whole life: it starts it on a unix socket in a fresh
/// directory and stays as its watchdog, stopping it and removing the directory when `stop()` is
/// called or when this test process dies. So no daemon is left behind, even after a crash.
final class DockerDaemon: Sendable {
    static let cli = "/usr/bin/docker"
    static let daemon = "/usr/sbin/dockerd"
    static var isInstalled: Bool {
        FileManager.default.isExecutableFile(atPath: cli) && FileManager.default.isExecutableFile(atPath: daemon)
    }

    let dir: String
    var socket: String { "unix://\(dir)/docker.sock" }
    /// `http://127.0.0.1:PORT`: the session's file server (the `ADD <url>` cases).
    let httpBase: String
    /// The session script's pid.
    private let watchdog: pid_t

    private init(dir: String, httpBase: String, watchdog: pid_t) {
        self.dir = dir
        self.httpBase = httpBase
        self.watchdog = watchdog
    }

    /// Starts the daemon (and the file server, serving `httpRoot`) and waits (up to 60 s) until
    /// the daemon answers.
    static func start(script: String, httpRoot: String) async throws -> DockerDaemon {
        let dir = try makeTemporaryDirectory("/var/tmp/slipway-diff-dockerd-XXXXXX")
        let port = try freeLoopbackPort()
        let pid = try spawnWithCleanSignals(["/bin/bash", script, dir, String(getpid()), String(port), httpRoot])
        let daemon = DockerDaemon(dir: dir, httpBase: "http://127.0.0.1:\(port)", watchdog: pid)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if try await daemon.docker(["version"]).status == 0 { return daemon }
            // The script exits (after cleaning up) when the daemon does.
            var status: Int32 = 0
            guard waitpid(daemon.watchdog, &status, WNOHANG) == 0 else { break }
            try await Task.sleep(for: .milliseconds(300))
        }
        // A daemon that died leaves its log beside the directory; one that hangs is still logging.
        let log = (try? String(contentsOfFile: dir + "/dockerd.log", encoding: .utf8))
            ?? (try? String(contentsOfFile: dir + ".log", encoding: .utf8)) ?? ""
        await daemon.stop()
        try? FileManager.default.removeItem(atPath: dir + ".log")
        throw DifferentialError("dockerd did not start: \(log.suffix(2000))")
    }

    /// Runs the docker CLI against this daemon. BuildKit on, a CLI config of its own.
    func docker(_ args: [String], cwd: String? = nil, stdinFile: String? = nil) async throws -> ProcessOutput {
        try await runProcess([Self.cli, "-H", socket] + args, cwd: cwd,
                             env: ["DOCKER_BUILDKIT": "1", "DOCKER_CONFIG": dir + "/cli"], stdinFile: stdinFile)
    }

    /// Asks the watchdog to stop the daemon and remove its directory, and waits until it has.
    func stop() async {
        _ = FileManager.default.createFile(atPath: dir + "/stop", contents: nil)
        let watchdog = self.watchdog
        await offPool {
            var status: Int32 = 0
            _ = waitpid(watchdog, &status, 0)
        }
        // The watchdog always removes the directory; if it is still there the watchdog died
        // early (killed from outside): stop the daemon here rather than leave it running.
        if let text = try? String(contentsOfFile: dir + "/daemon.pid", encoding: .utf8), let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            kill(pid, SIGKILL)
            try? await Task.sleep(for: .seconds(1))
            try? FileManager.default.removeItem(atPath: dir)
        }
    }
}

/// Starts `argv` with every signal unblocked and at its default action, and returns its pid
/// (the caller reaps it with waitpid). Foundation's `Process` passes on the signal mask of the
/// thread that starts it, and test threads block SIGTERM among others: a dockerd started that
/// way ignores the TERM that asks it to shut down cleanly, and so does everything it starts.
func spawnWithCleanSignals(_ argv: [String]) throws -> pid_t {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t(), all = sigset_t()
    sigemptyset(&none)
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for fd: Int32 in 0...2 { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
    let cArgs = argv.map { strdup($0) } + [nil]
    defer { for arg in cArgs { free(arg) } }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, argv[0], &actions, &attributes, cArgs, environ)
    guard result == 0 else { throw DifferentialError("posix_spawn \(argv[0]): \(String(cString: strerror(result)))") }
    return pid
}

/// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's pick).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw DifferentialError("socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw DifferentialError("bind 127.0.0.1:0: \(String(cString: strerror(errno)))") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A fresh directory from a mkdtemp template.
func makeTemporaryDirectory(_ template: String) throws -> String {
    var bytes = Array(template.utf8CString)
    guard let made = bytes.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw DifferentialError("mkdtemp \(template): \(String(cString: strerror(errno)))")
    }
    return String(cString: made)
}

struct DifferentialError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
