import Foundation

/// An image configuration (OCI `config.md`, Docker's `application/vnd.docker.container.image.v1+json`).
/// Times stay strings so that foreign values (nanoseconds, zones) survive a decode/encode cycle.
public struct ImageConfig: Codable, Hashable, Sendable {
    public var created: String?
    public var author: String?
    public var architecture: String
    public var os: String
    public var osVersion: String?
    public var osFeatures: [String]?
    public var variant: String?
    public var config: ContainerConfig?
    public var rootfs: RootFS
    public var history: [History]?

    enum CodingKeys: String, CodingKey {
        case created, author, architecture, os, variant, config, rootfs, history
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }

    public init(platform: Platform = .host, created: String? = nil, config: ContainerConfig? = ContainerConfig(),
                diffIDs: [Digest] = [], history: [History]? = []) {
        self.created = created
        self.architecture = platform.architecture
        self.os = platform.os
        self.variant = platform.variant
        self.config = config
        self.rootfs = RootFS(diffIDs: diffIDs)
        self.history = history
    }

    public var platform: Platform {
        var p = Platform(os: os, architecture: architecture, variant: variant)
        p.osVersion = osVersion
        p.osFeatures = osFeatures
        return p
    }

    /// Decodes a config and checks what the store relies on: a `layers` rootfs of sha256 diff IDs.
    public static func decode(_ data: [UInt8], source: String = "image config") throws -> ImageConfig {
        let c: ImageConfig
        do {
            c = try CanonicalJSON.decode(ImageConfig.self, from: data)
        } catch {
            throw ModelError.badJSON(what: source, reason: CanonicalJSON.describe(error))
        }
        guard c.rootfs.type == "layers" else {
            throw ModelError.unsupported(what: source, reason: "rootfs.type '\(c.rootfs.type)' (expected 'layers')")
        }
        return c
    }

    /// The creation time as a date (RFC 3339, with or without fractional seconds).
    public var createdDate: Date? { created.flatMap(Timestamp.parse) }

    /// History entries paired with the layer each adds (nil for `empty_layer` entries). When an
    /// image has no history (e.g. `import`ed), one synthetic entry per layer is produced.
    public func historyWithLayers() -> [(history: History, layerIndex: Int?)] {
        let entries = history ?? []
        if entries.isEmpty {
            return rootfs.diffIDs.indices.map { (History(created: created), $0) }
        }
        var next = 0
        var result: [(History, Int?)] = []
        for h in entries {
            if h.emptyLayer == true || next >= rootfs.diffIDs.count {
                result.append((h, nil))
            } else {
                result.append((h, next))
                next += 1
            }
        }
        return result
    }
}

/// The `rootfs` object: the uncompressed digests of the layers, bottom first.
public struct RootFS: Codable, Hashable, Sendable {
    public var type: String
    public var diffIDs: [Digest]

    enum CodingKeys: String, CodingKey {
        case type
        case diffIDs = "diff_ids"
    }

    public init(type: String = "layers", diffIDs: [Digest]) {
        self.type = type
        self.diffIDs = diffIDs
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(String.self, forKey: .type)
        diffIDs = try c.decodeIfPresent([Digest].self, forKey: .diffIDs) ?? []
    }
}

/// One history entry; `created_by` holds the Dockerfile instruction in BuildKit's form.
public struct History: Codable, Hashable, Sendable {
    public var created: String?
    public var createdBy: String?
    public var author: String?
    public var comment: String?
    public var emptyLayer: Bool?

    enum CodingKeys: String, CodingKey {
        case created, author, comment
        case createdBy = "created_by"
        case emptyLayer = "empty_layer"
    }

    public init(created: String? = nil, createdBy: String? = nil, author: String? = nil,
                comment: String? = nil, emptyLayer: Bool? = nil) {
        self.created = created
        self.createdBy = createdBy
        self.author = author
        self.comment = comment
        self.emptyLayer = emptyLayer
    }
}

/// The run-time defaults of an image (the `config` object; Docker's capitalised field names).
public struct ContainerConfig: Codable, Hashable, Sendable {
    public var user: String?
    public var exposedPorts: [String: EmptyObject]?
    public var env: [String]?
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var volumes: [String: EmptyObject]?
    public var workingDir: String?
    public var labels: [String: String]?
    public var stopSignal: String?
    public var argsEscaped: Bool?
    public var healthcheck: Healthcheck?
    public var shell: [String]?
    public var onBuild: [String]?

    enum CodingKeys: String, CodingKey {
        case user = "User"
        case exposedPorts = "ExposedPorts"
        case env = "Env"
        case entrypoint = "Entrypoint"
        case cmd = "Cmd"
        case volumes = "Volumes"
        case workingDir = "WorkingDir"
        case labels = "Labels"
        case stopSignal = "StopSignal"
        case argsEscaped = "ArgsEscaped"
        case healthcheck = "Healthcheck"
        case shell = "Shell"
        case onBuild = "OnBuild"
    }

    public init(env: [String]? = nil, cmd: [String]? = nil, entrypoint: [String]? = nil, workingDir: String? = nil,
                user: String? = nil) {
        self.env = env
        self.cmd = cmd
        self.entrypoint = entrypoint
        self.workingDir = workingDir
        self.user = user
    }

    /// Looks up an environment variable (last definition wins, as in a container).
    public func environment(_ name: String) -> String? {
        for entry in (env ?? []).reversed() {
            if let eq = entry.firstIndex(of: "="), entry[..<eq] == name {
                return String(entry[entry.index(after: eq)...])
            }
        }
        return nil
    }
}

/// `HEALTHCHECK` settings; durations are nanoseconds as in Docker's JSON.
public struct Healthcheck: Codable, Hashable, Sendable {
    public var test: [String]?
    public var interval: Int64?
    public var timeout: Int64?
    public var startPeriod: Int64?
    public var startInterval: Int64?
    public var retries: Int?

    enum CodingKeys: String, CodingKey {
        case test = "Test"
        case interval = "Interval"
        case timeout = "Timeout"
        case startPeriod = "StartPeriod"
        case startInterval = "StartInterval"
        case retries = "Retries"
    }

    public init(test: [String]? = nil, interval: Int64? = nil, timeout: Int64? = nil, startPeriod: Int64? = nil,
                startInterval: Int64? = nil, retries: Int? = nil) {
        self.test = test
        self.interval = interval
        self.timeout = timeout
        self.startPeriod = startPeriod
        self.startInterval = startInterval
        self.retries = retries
    }
}

/// The JSON `{}` used as the value in `ExposedPorts` and `Volumes` sets.
public struct EmptyObject: Codable, Hashable, Sendable {
    public init() {}
    public init(from decoder: Decoder) throws {}
    public func encode(to encoder: Encoder) throws {
        _ = encoder.container(keyedBy: NoKeys.self)
    }
    private enum NoKeys: CodingKey {}
}

