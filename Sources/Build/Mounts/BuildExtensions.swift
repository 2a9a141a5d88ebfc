import System
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
    /// The failed system call behind it, when there was one.
    public var cause: SystemError?
    public init(_ message: String) { self.message = message }
    /// `context` (which mount, what it was doing) and the failed call: "cache mount go: mkdir …: …".
    public init(_ context: String, cause: SystemError) {
        self.message = context
        self.cause = cause
    }
    public var description: String { cause.map { "\(message): \($0)" } ?? message }
}
