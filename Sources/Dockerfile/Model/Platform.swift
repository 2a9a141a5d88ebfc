/// An OCI platform (`linux/amd64`, `linux/arm/v7`).
public struct Platform: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var os: String
    public var architecture: String
    public var variant: String

    public init(os: String, architecture: String, variant: String = "") {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// The machine Slipway runs on.
    public static var host: Platform {
        #if arch(x86_64)
        return Platform(os: "linux", architecture: "amd64")
        #elseif arch(arm64)
        return Platform(os: "linux", architecture: "arm64")
        #elseif arch(arm)
        return Platform(os: "linux", architecture: "arm", variant: "v7")
        #elseif arch(s390x)
        return Platform(os: "linux", architecture: "s390x")
        #elseif arch(powerpc64le)
        return Platform(os: "linux", architecture: "ppc64le")
        #elseif arch(i386)
        return Platform(os: "linux", architecture: "386")
        #else
        return Platform(os: "linux", architecture: "unknown")
        #endif
    }

    /// `os/arch[/variant]`.
    public var description: String {
        variant.isEmpty ? "\(os)/\(architecture)" : "\(os)/\(architecture)/\(variant)"
    }

    /// Parses `os/arch[/variant]` or `arch` (os defaults to linux); nil when malformed.
    public init?(parsing s: String) {
        let parts = s.lowercased().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_-.")
        guard !parts.contains(where: { $0.isEmpty || !$0.allSatisfy(allowed.contains) }) else { return nil }
        switch parts.count {
        case 1: self.init(os: "linux", architecture: Platform.normalizeArch(parts[0]))
        case 2: self.init(os: parts[0], architecture: Platform.normalizeArch(parts[1]))
        case 3: self.init(os: parts[0], architecture: Platform.normalizeArch(parts[1]), variant: parts[2])
        default: return nil
        }
    }

    static func normalizeArch(_ a: String) -> String {
        switch a {
        case "x86_64", "x86-64": "amd64"
        case "aarch64": "arm64"
        case "i386", "i686": "386"
        default: a
        }
    }

    /// BuildKit's predefined platform ARGs for a build on `build` targeting `target`.
    public static func predefinedArgs(build: Platform, target: Platform, targetStage: String) -> Environment {
        Environment([
            ("BUILDPLATFORM", build.description),
            ("BUILDOS", build.os),
            ("BUILDOSVERSION", ""),
            ("BUILDARCH", build.architecture),
            ("BUILDVARIANT", build.variant),
            ("TARGETPLATFORM", target.description),
            ("TARGETOS", target.os),
            ("TARGETOSVERSION", ""),
            ("TARGETARCH", target.architecture),
            ("TARGETVARIANT", target.variant),
            ("TARGETSTAGE", targetStage),
        ])
    }
}
