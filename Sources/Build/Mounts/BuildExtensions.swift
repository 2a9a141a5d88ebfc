import Dockerfile
import Foundation

/// What BuildKit's Dockerfile extensions need from the build's invocation: where cache mounts
/// live, the secrets and SSH sockets given on the command line, and the entitlements granted.
/// The CLI fills it; `BuildRequest.extensions` carries it to every stage.
public struct BuildExtensions: Sendable {
    /// Directory of persistent cache mounts (`<store root>/cache-mounts`); nil disables cache
    /// mounts (a step using one then fails with a clear error).
    public var cacheMounts: CacheMountStore?
    /// `--secret` values by id (read only when a step mounts them).
    public var secrets: SecretStore
    /// `--ssh` sockets by id (`default` from `$SSH_AUTH_SOCK`).
    public var sshSockets: [String: String]
    /// `--allow security.insecure` was given.
    public var allowInsecure: Bool
    /// SOURCE_DATE_EPOCH (environment or --build-arg): new history entries and the config get
    /// this time, new layers have their mtimes clamped to it.
    public var sourceDateEpoch: Int64?
    /// `--build-context` names.
    public var namedContexts: [String: NamedContext] = [:]
    /// Where per-step scratch files (secret files, heredoc scripts) go when no tmpfs is found.
    public var scratchDirectory: String

    public init(cacheMounts: CacheMountStore? = nil, secrets: SecretStore = SecretStore(), sshSockets: [String: String] = [:],
                allowInsecure: Bool = false, scratchDirectory: String = NSTemporaryDirectory()) {
        self.cacheMounts = cacheMounts
        self.secrets = secrets
        self.sshSockets = sshSockets
        self.allowInsecure = allowInsecure
        self.scratchDirectory = scratchDirectory
    }
}

/// `RUN` flags beyond the command, carried from the Dockerfile to the engine.
public struct RunExtras: Sendable {
    /// `--mount` values as written (expanded with the stage's environment at build time).
    public var mountSpecs: [String] = []
    /// Each mount's `from=` (as written) resolved to a stage or an image.
    public var mountFroms: [String: CopyFrom] = [:]
    /// `--security`: sandbox (default) or insecure.
    public var security = "sandbox"
    /// `RUN <<EOF` whose body starts with `#!`: written to /dev/pipes/<name> and executed.
    public var script: InlineScript?

    public init() {}

    public var isEmpty: Bool { mountSpecs.isEmpty && security == "sandbox" && script == nil }
}

/// A heredoc run as a script (BuildKit mounts it at /dev/pipes/<name>, mode 0755).
public struct InlineScript: Sendable, Equatable {
    public var name: String
    public var data: String
    public init(name: String, data: String) {
        self.name = name
        self.data = data
    }

    /// Where the script appears in the container.
    public var path: String { "/dev/pipes/" + name }
}

/// A RUN extension cannot be used as written.
public struct MountUseError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension BuildPlan {
    /// The RUN flags the engine needs beyond the command, with mount `from=` values resolved
    /// the way COPY --from is (a stage of the graph, else an image).
    static func runExtras(_ r: Run, graph: StageGraph, stageIndex: Int) -> RunExtras {
        var extras = RunExtras()
        extras.mountSpecs = r.mountSpecs
        extras.security = r.security
        for spec in r.mountSpecs {
            guard let from = Mount.fromField(of: spec), !from.isEmpty else { continue }
            let dep = graph.stages[stageIndex].dependencies.first { $0.kind == .mountFrom && $0.reference == from }
            switch dep?.target {
            case .stage(let i)?: extras.mountFroms[from] = .stage(i)
            case .image(let ref)?: extras.mountFroms[from] = .image(ref)
            case nil: extras.mountFroms[from] = .image(from)
            }
        }
        return extras
    }
}
