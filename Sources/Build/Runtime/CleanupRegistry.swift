#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization
import System

/// Process-wide record of every mount, scratch directory and container this process created and
/// has not yet released. Whatever way the process ends — a normal exit, a thrown error that
/// skipped a cleanup path, SIGINT or SIGTERM — `cleanUpAll` removes them, newest first, so that no
/// overlay mount, snapshot directory or runtime state outlives a build.
///
/// Handlers are installed at the CLI's start (`installHandlers`, for every command) and on first
/// use in any other process: `atexit` for normal exits, DispatchSource handlers for
/// SIGINT/SIGTERM/SIGHUP that clean up and exit with 128+signal (130, 143, 129), and SIGPIPE
/// caught by a handler that does nothing, so that a write to a pipe whose reader left fails with
/// EPIPE (an error the writer stops on, cleaning up) instead of killing the process mid-RUN with
/// its mounts left behind. A caught signal, unlike an ignored one, is reset to its default by
/// exec, so every child (runc, tar, git, the step's own processes) still dies of SIGPIPE as usual.
public final class CleanupRegistry: Sendable {
    public static let shared = CleanupRegistry()

    /// Something to remove. `pid` of a container is the `runtime run` process while it runs.
    public enum Resource: Sendable {
        case mount(String)
        case directory(String)
        case container(id: String, runtime: ContainerRuntime, pid: PIDBox)
    }

    public struct Token: Hashable, Sendable { let raw: UInt64 }

    /// The pid of a running child, cleared as soon as it is reaped so it is never signalled after
    /// its number may have been reused.
    public final class PIDBox: Sendable {
        let value = Atomic<Int32>(0)
        public init() {}
    }

    private struct State: ~Copyable {
        var next: UInt64 = 1
        var items: [(UInt64, Resource)] = []
        var shuttingDown = false
        var handlersInstalled = false
    }

    private let state = Mutex(State())
    private let cleanupLock = Mutex(())
    nonisolated(unsafe) private static var signalSources: [any DispatchSourceSignal] = []

    /// Registers `resource` and, under the same lock, runs `create` (the mount, the mkdir). The
    /// lock makes registration and creation atomic with respect to `cleanUpAll`: a resource is
    /// either created and registered, or not created at all once shutdown began.
    @discardableResult
    public func register<T>(_ resource: Resource, create: () throws -> T) throws -> (Token, T) {
        installHandlersOnce()
        return try state.withLock { state in
            if state.shuttingDown { throw RuntimeError.shuttingDown }
            let value = try create()
            let id = state.next
            state.next += 1
            state.items.append((id, resource))
            return (Token(raw: id), value)
        }
    }

    /// Registers an existing resource.
    @discardableResult
    public func register(_ resource: Resource) throws -> Token {
        try register(resource) { () }.0
    }

    /// Forgets a resource its owner has already removed.
    public func release(_ token: Token) {
        state.withLock { $0.items.removeAll { $0.0 == token.raw } }
    }

    /// Removes one resource now and forgets it.
    public func cleanUp(_ token: Token) {
        let resource = state.withLock { state -> Resource? in
            guard let index = state.items.firstIndex(where: { $0.0 == token.raw }) else { return nil }
            return state.items.remove(at: index).1
        }
        if let resource { Self.remove(resource) }
    }

    /// Removes the directory resource registered for `path` now (or just the path if none is).
    public func cleanUp(path: String) {
        state.withLock { state in
            state.items.removeAll { if case .directory(path) = $0.1 { return true }; return false }
        }
        try? FileSystem.removeTree(path)
    }

    /// Number of live resources (for tests and diagnostics).
    public var liveCount: Int { state.withLock { $0.items.count } }

    /// Removes everything registered, newest first, and refuses new registrations. Idempotent.
    /// A caller that arrives while another cleanup runs (exit() on the main thread while a signal
    /// handler cleans up) waits for it, so the process never ends half-cleaned.
    public func cleanUpAll() {
        cleanupLock.withLock { _ in removeAllLocked() }
    }

    /// The signal path: clean up and `_exit(128+signal)` while holding the cleanup lock, so a
    /// thread that meanwhile calls exit() (its container just died) blocks in our atexit hook
    /// instead of ending the process with another status.
    func cleanUpAndExit(signal sig: Int32) -> Never {
        cleanupLock.withLock { _ in
            removeAllLocked()
            fflush(nil)
            _exit(128 + sig)
        }
    }

    private func removeAllLocked() {
        let items = state.withLock { state -> [(UInt64, Resource)] in
            state.shuttingDown = true
            defer { state.items.removeAll() }
            return state.items
        }
        for (_, resource) in items.reversed() { Self.remove(resource) }
    }

    static func remove(_ resource: Resource) {
        switch resource {
        case let .container(id, runtime, pid):
            // Kill through the runtime first (it knows the container's pid), then the runtime
            // process itself if it still runs (runc init dies with it: pdeath signal), then the state.
            ChildProcess.runQuietly(runtime.command(["kill", id, "KILL"]))
            let p = pid.value.load(ordering: .acquiring)
            if p > 0 { kill(p, SIGKILL) }
            ChildProcess.runQuietly(runtime.command(["delete", "--force", id]))
        case let .mount(path):
            if umount2(path, 0) != 0 && errno == EBUSY { umount2(path, Int32(MNT_DETACH)) }
        case let .directory(path):
            try? FileSystem.removeTree(path)
        }
    }

    /// Installs the handlers now (idempotent). The CLI calls this before any command runs, so a
    /// signal is handled the same way whether or not anything has been registered yet.
    public func installHandlers() {
        installHandlersOnce()
    }

    private func installHandlersOnce() {
        let first = state.withLock { state -> Bool in
            defer { state.handlersInstalled = true }
            return !state.handlersInstalled
        }
        guard first else { return }
        atexit { CleanupRegistry.shared.cleanUpAll() }
        signal(SIGPIPE) { _ in }
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { CleanupRegistry.shared.cleanUpAndExit(signal: sig) }
            source.resume()
            sources.append(source)
        }
        Self.signalSources = sources
    }
}

extension CleanupRegistry {
    /// A fresh directory `base/prefix<pid>-<random>`, created and registered for cleanup in one
    /// step (so that a signal can never leave it behind unregistered). The pid lets a later
    /// process remove what a killed one (SIGKILL, power loss) left: `RunExecutor.removeStale`.
    func makeDirectory(in base: String, prefix: String) throws -> (CleanupRegistry.Token, String) {
        // Scratch bases hold mounted container roots: private when this creates them.
        try FileSystem.makeDirectories(base, mode: 0o700)
        for _ in 0..<16 {
            let path = base + "/" + prefix + "\(getpid())-" + TempName.randomHex(6)
            do {
                return try register(.directory(path)) { () -> String in
                    guard mkdir(path, 0o700) == 0 else { throw RuntimeError.system(operation: "mkdir", path: path, errno: errno) }
                    return path
                }
            } catch RuntimeError.system(let e) where e.errno == EEXIST {
                continue
            }
        }
        throw RuntimeError.system(operation: "mkdir", path: base + "/" + prefix + "*", errno: EEXIST)
    }
}
