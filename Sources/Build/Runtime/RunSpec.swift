/// What to run in a container: the process and its environment, as a build step or `slipway run`
/// describes it. Image and Dockerfile semantics (SHELL, ENV expansion, USER, WORKDIR) are applied
/// by the caller; this is the already-decided result.
public struct RunSpec: Sendable, Equatable {
    /// argv. Use `RunSpec.shellForm` for a shell-form RUN.
    public var args: [String]
    /// "KEY=value" entries. PATH (Docker's default) and HOME (from /etc/passwd) are added when absent.
    public var env: [String]
    /// Absolute working directory; created (owned by the user) if missing, as BuildKit does.
    public var workingDir: String
    /// Docker user spec: "", "name", "uid", "name:group", "uid:gid" (resolved in the image).
    public var user: String
    public var hostname: String
    public var network: NetworkMode
    /// Extra bind mounts (cache mounts, secrets, the build context...).
    public var mounts: [BindMount]
    /// Bind the host's CA bundle read-only over /etc/ssl/certs/ca-certificates.crt when the image
    /// has that file: this machine intercepts HTTPS with its own CA, so pip/curl need it.
    public var trustHostCertificates: Bool
    /// Attach the caller's stdin/stdout/stderr (for `slipway run`) instead of streaming output.
    public var interactive: Bool
    /// tmpfs mounts (`RUN --mount=type=tmpfs`).
    public var tmpfs: [TmpfsMount] = []
    /// `RUN --security=insecure`: every capability, no masked or read-only /proc paths.
    public var insecure = false
    /// Where runStep writes the bundle (config.json holds the env): a tmpfs directory when the
    /// env carries a secret. nil: inside the snapshot directory.
    public var bundleDirectory: String?

    public init(args: [String], env: [String] = [], workingDir: String = "/", user: String = "",
                hostname: String = "slipway", network: NetworkMode = .host, mounts: [BindMount] = [],
                trustHostCertificates: Bool = false, interactive: Bool = false) {
        self.args = args
        self.env = env
        self.workingDir = workingDir.isEmpty ? "/" : workingDir
        self.user = user
        self.hostname = hostname
        self.network = network
        self.mounts = mounts
        self.trustHostCertificates = trustHostCertificates
        self.interactive = interactive
    }

    /// The argv of a shell-form instruction: `shell + [command]` (default `/bin/sh -c`).
    public static func shellForm(_ command: String, shell: [String] = defaultShell) -> [String] {
        (shell.isEmpty ? defaultShell : shell) + [command]
    }

    public static let defaultShell = ["/bin/sh", "-c"]
}

public enum NetworkMode: String, Sendable, Equatable, CaseIterable {
    /// Share the host's network namespace (BuildKit's `--network host`; our default).
    case host
    /// A new network namespace with only the loopback interface.
    case none
}

public struct BindMount: Sendable, Equatable {
    public var source: String
    public var destination: String
    public var readOnly: Bool
    public init(source: String, destination: String, readOnly: Bool = true) {
        self.source = source
        self.destination = destination
        self.readOnly = readOnly
    }
}

/// A tmpfs mounted at `destination` for one step (never part of the layer).
public struct TmpfsMount: Sendable, Equatable {
    public var destination: String
    /// Size limit in bytes (nil: the kernel default, half of RAM).
    public var sizeLimit: Int64?
    public init(destination: String, sizeLimit: Int64? = nil) {
        self.destination = destination
        self.sizeLimit = sizeLimit
    }
}
