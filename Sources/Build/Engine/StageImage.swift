import Dockerfile
import Foundation

/// The runtime configuration part of an image config (`config` in the OCI image config JSON),
/// as the build engine evolves it instruction by instruction. It is kept independent of the
/// store's model so the BuildKit semantics can be tested without I/O; `StageImage+OCI.swift`
/// maps it to the store's types.
public struct StageRunConfig: Equatable, Sendable {
    public var user: String = ""
    /// `port/proto` keys, e.g. `8080/tcp`; kept sorted for deterministic JSON.
    public var exposedPorts: Set<String> = []
    /// `KEY=value` strings in definition order (later ENVs replace earlier ones in place).
    public var env: [String] = []
    public var entrypoint: [String]? = nil
    public var cmd: [String]? = nil
    public var volumes: Set<String> = []
    public var workingDir: String = ""
    public var labels: [String: String] = [:]
    public var stopSignal: String = ""
    public var argsEscaped: Bool = false
    public var shell: [String]? = nil
    public var onBuild: [String]? = nil
    public var healthcheck: StageHealthcheck? = nil

    public init() {}
}

/// Docker's HEALTHCHECK configuration; durations are nanoseconds as in the image config JSON.
public struct StageHealthcheck: Equatable, Sendable {
    public var test: [String]
    public var interval: Int64 = 0
    public var timeout: Int64 = 0
    public var startPeriod: Int64 = 0
    public var startInterval: Int64 = 0
    public var retries: Int = 0

    public init(test: [String], interval: Int64 = 0, timeout: Int64 = 0, startPeriod: Int64 = 0,
                startInterval: Int64 = 0, retries: Int = 0) {
        self.test = test
        self.interval = interval
        self.timeout = timeout
        self.startPeriod = startPeriod
        self.startInterval = startInterval
        self.retries = retries
    }
}

/// One `history` entry of an image config.
public struct StageHistoryEntry: Equatable, Sendable {
    public var created: Date?
    public var createdBy: String
    public var comment: String?
    public var author: String?
    public var emptyLayer: Bool

    public init(created: Date? = nil, createdBy: String, comment: String? = nil, author: String? = nil,
                emptyLayer: Bool) {
        self.created = created
        self.createdBy = createdBy
        self.comment = comment
        self.author = author
        self.emptyLayer = emptyLayer
    }

    /// BuildKit's comment on every entry it writes.
    public static let buildkitComment = "buildkit.dockerfile.v0"
}

/// The image a stage is building: config, history and platform. Layers are tracked separately
/// by the executor (they are files, this is metadata).
public struct StageImage: Equatable, Sendable {
    public var config = StageRunConfig()
    public var history: [StageHistoryEntry] = []
    public var author: String? = nil
    public var os = "linux"
    public var architecture = StageImage.hostArchitecture
    public var variant: String? = nil

    public init() {}

    /// `os/arch[/variant]`, for messages.
    public var platformText: String {
        [os, architecture, variant ?? ""].filter { !$0.isEmpty }.joined(separator: "/")
    }

    /// The architecture name Go and OCI use for this machine.
    public static var hostArchitecture: String {
        #if arch(x86_64)
        return "amd64"
        #elseif arch(arm64)
        return "arm64"
        #else
        return "unknown"
        #endif
    }

    /// Docker's and BuildKit's PATH for Linux images that do not set one.
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    /// The shell for shell-form RUN/CMD/ENTRYPOINT when no SHELL was given.
    public static let defaultShell = ["/bin/sh", "-c"]
}
