import Dockerfile
import Foundation
import OCI

// Platforms in the engine are `OCI.Platform`s, the one owner of platform names and their
// normalisation (containerd's rules). The frontend's `FrontendPlatform` only carries the
// values of the automatic platform ARGs; the CLI makes it from a normalised `OCI.Platform`.

extension FrontendPlatform {
    /// The frontend's value of `platform` after normalisation: linux/arm64 (v8 implied) has an
    /// empty TARGETVARIANT, linux/arm is linux/arm/v7, aarch64 is arm64.
    public init(_ platform: OCI.Platform) {
        let n = platform.normalized
        self.init(os: n.os, architecture: n.architecture, variant: n.variant ?? "")
    }
}

extension OCI.Platform {
    /// A frontend platform, normalised.
    public init(_ platform: FrontendPlatform) {
        self = OCI.Platform(os: platform.os, architecture: platform.architecture,
                            variant: platform.variant.isEmpty ? nil : platform.variant).normalized
    }

    /// Same OS and CPU (BuildKit's InvalidBaseImagePlatform test: the variant is not compared).
    public func sameOSAndArchitecture(_ other: OCI.Platform) -> Bool {
        let a = normalized, b = other.normalized
        return a.os == b.os && a.architecture == b.architecture
    }
}

extension BuildPlan {
    /// What stages without `FROM --platform` build for: `build --platform`, else the host's.
    public var targetPlatform: OCI.Platform { OCI.Platform(graph.options.targetPlatform) }
}

extension StagePlan {
    /// `FROM --platform=...`, expanded and normalised; nil: the build's target platform.
    public var platform: OCI.Platform? { node.platform.flatMap { try? OCI.Platform(parsing: $0) } }
}

extension BuildFlags {
    /// `build --platform os/arch[/variant]`, normalised. Several (`linux/amd64,linux/arm64`)
    /// are refused for now: the store keeps one image per tag, not an index.
    public static func platform(_ raw: String) throws(FlagError) -> OCI.Platform {
        let parts = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !parts.isEmpty else { throw .invalid("--platform", raw, "expected os/arch[/variant], e.g. linux/arm64") }
        guard parts.count == 1 else {
            throw .invalid("--platform", raw, "one platform per build for now (the store keeps one image per tag, not an index): "
                           + "build each with its own tag, e.g. --platform \(parts[0]) -t NAME:\(parts[0].replacingOccurrences(of: "/", with: "-"))")
        }
        do {
            return try OCI.Platform(parsing: parts[0])
        } catch {
            throw .invalid("--platform", raw, "expected os/arch[/variant], e.g. linux/arm64")
        }
    }
}

extension StageRun {
    /// The platform this stage asked for: `FROM --platform`, else `build --platform`; nil when
    /// neither was given (the host's, and a base of another CPU is only a warning). Images this
    /// stage pulls (FROM, `COPY --from`, `--mount from=`) are pulled for it.
    var askedPlatform: OCI.Platform? { stage.platform ?? (request.platformRequested ? plan.targetPlatform : nil) }
}
