import Foundation
import OCI

/// Mapping between the engine's stage image and the store's image config model.
extension StageImage {
    /// The image's platform, normalised (`OCI.Platform` owns the names).
    public var platform: Platform { Platform(os: os, architecture: architecture, variant: variant).normalized }

    /// Makes this a `platform` image (os, architecture, variant as the config records them).
    public mutating func setPlatform(_ platform: Platform) {
        let p = platform.normalized
        os = p.os
        architecture = p.architecture
        variant = p.variant
    }

    /// Reads a stored image's config (what FROM starts from).
    public init(_ c: ImageConfig) {
        self.init()
        // Some hand-made images leave these empty; they are then taken as the host's.
        os = c.os.isEmpty ? "linux" : c.os
        architecture = c.architecture.isEmpty ? StageImage.hostArchitecture : c.architecture
        variant = c.variant
        author = c.author
        if let cc = c.config {
            config.user = cc.user ?? ""
            config.exposedPorts = Set(cc.exposedPorts?.keys.map { $0 } ?? [])
            config.env = cc.env ?? []
            config.entrypoint = cc.entrypoint
            config.cmd = cc.cmd
            config.volumes = Set(cc.volumes?.keys.map { $0 } ?? [])
            config.workingDir = cc.workingDir ?? ""
            config.labels = cc.labels ?? [:]
            config.stopSignal = cc.stopSignal ?? ""
            config.argsEscaped = cc.argsEscaped ?? false
            config.shell = cc.shell
            config.onBuild = cc.onBuild
            if let h = cc.healthcheck, let test = h.test {
                config.healthcheck = StageHealthcheck(test: test, interval: h.interval ?? 0, timeout: h.timeout ?? 0,
                                                      startPeriod: h.startPeriod ?? 0, startInterval: h.startInterval ?? 0,
                                                      retries: h.retries ?? 0)
            }
        }
        history = (c.history ?? []).map {
            StageHistoryEntry(created: $0.created.flatMap(Timestamp.parse), createdBy: $0.createdBy ?? "",
                              comment: $0.comment, author: $0.author, emptyLayer: $0.emptyLayer ?? false)
        }
    }

    /// The OCI image config for this stage over layers with the given diff IDs. `created` is the
    /// newest history time, so a fully cached rebuild yields the same config (and image ID).
    public func imageConfig(diffIDs: [Digest]) -> ImageConfig {
        var cc = OCI.ContainerConfig()
        cc.user = config.user.isEmpty ? nil : config.user
        cc.exposedPorts = config.exposedPorts.isEmpty ? nil : Dictionary(uniqueKeysWithValues: config.exposedPorts.map { ($0, EmptyObject()) })
        cc.env = config.env.isEmpty ? nil : config.env
        cc.entrypoint = config.entrypoint
        cc.cmd = config.cmd
        cc.volumes = config.volumes.isEmpty ? nil : Dictionary(uniqueKeysWithValues: config.volumes.map { ($0, EmptyObject()) })
        cc.workingDir = config.workingDir.isEmpty ? nil : config.workingDir
        cc.labels = config.labels.isEmpty ? nil : config.labels
        cc.stopSignal = config.stopSignal.isEmpty ? nil : config.stopSignal
        cc.argsEscaped = config.argsEscaped ? true : nil
        cc.shell = config.shell
        cc.onBuild = config.onBuild
        if let h = config.healthcheck {
            cc.healthcheck = OCI.Healthcheck(test: h.test, interval: h.interval == 0 ? nil : h.interval,
                                             timeout: h.timeout == 0 ? nil : h.timeout,
                                             startPeriod: h.startPeriod == 0 ? nil : h.startPeriod,
                                             startInterval: h.startInterval == 0 ? nil : h.startInterval,
                                             retries: h.retries == 0 ? nil : h.retries)
        }
        var platform = Platform(os: os, architecture: architecture, variant: variant)
        platform.variant = variant
        let newest = history.compactMap(\.created).max()
        var out = ImageConfig(platform: platform, created: newest.map(Timestamp.format), config: cc, diffIDs: diffIDs,
                              history: history.map {
                                  History(created: $0.created.map(Timestamp.format), createdBy: $0.createdBy,
                                          author: $0.author, comment: $0.comment, emptyLayer: $0.emptyLayer ? true : nil)
                              })
        out.author = author
        return out
    }
}
