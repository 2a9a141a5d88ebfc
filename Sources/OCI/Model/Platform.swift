#if canImport(Glibc)
import Glibc
#endif

/// An OS and CPU pair such as `linux/arm64/v8` (OCI `platform` object).
public struct Platform: Codable, Hashable, Sendable, CustomStringConvertible {
    public var architecture: String
    public var os: String
    public var osVersion: String?
    public var osFeatures: [String]?
    public var variant: String?
    public var features: [String]?

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant, features
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }

    public init(os: String = "linux", architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    public enum ParseError: Error, CustomStringConvertible, Equatable {
        case malformed(String)
        public var description: String {
            switch self {
            case .malformed(let s): return "invalid platform '\(s)': expected OS/ARCH[/VARIANT], e.g. linux/amd64"
            }
        }
    }

    /// Parses `os/arch[/variant]` (or just `arch`, meaning linux) and normalises the names like
    /// containerd does (`aarch64` → `arm64`, `x86_64` → `amd64`, `armhf` → `arm/v7`).
    public init(parsing string: String) throws {
        let parts = string.lowercased().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !parts.isEmpty, parts.count <= 3, parts.allSatisfy({ !$0.isEmpty }) else {
            throw ParseError.malformed(string)
        }
        if parts.count == 1 {
            self.init(architecture: parts[0])
        } else {
            self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
        }
        self = normalized
    }

    public var description: String {
        "\(os)/\(architecture)" + (variant.map { "/\($0)" } ?? "")
    }

    /// The same platform with architecture and variant names normalised.
    public var normalized: Platform {
        var p = self
        switch architecture {
        case "x86_64", "x86-64": p.architecture = "amd64"
        case "aarch64": p.architecture = "arm64"
        case "armhf": p.architecture = "arm"; p.variant = p.variant ?? "v7"
        case "armel": p.architecture = "arm"; p.variant = p.variant ?? "v6"
        case "i386", "i686": p.architecture = "386"
        default: break
        }
        if p.variant == "" { p.variant = nil }
        // containerd's platforms.Normalize: arm means arm/v7, a bare number is a version.
        if p.architecture == "arm" {
            switch p.variant {
            case nil, "7": p.variant = "v7"
            case "5", "6", "8": p.variant = "v" + p.variant!
            default: break
            }
        }
        if p.architecture == "arm64", p.variant == "v8" || p.variant == "8" || p.variant == "v8.0" { p.variant = nil }
        if p.architecture == "amd64", p.variant == "v1" { p.variant = nil }
        return p
    }

    /// True when an image for `self` can stand in for a request of `wanted` (variant optional).
    public func matches(_ wanted: Platform) -> Bool {
        let a = normalized, b = wanted.normalized
        guard a.os == b.os, a.architecture == b.architecture else { return false }
        return b.variant == nil || a.variant == nil || a.variant == b.variant
    }

    /// The platform of the running machine (from `uname`).
    public static var host: Platform {
        var u = utsname()
        guard uname(&u) == 0 else { return Platform(architecture: "amd64") }
        let machine = withUnsafeBytes(of: &u.machine) { raw -> String in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        switch machine {
        case "armv7l": return Platform(architecture: "arm", variant: "v7")
        case "armv6l": return Platform(architecture: "arm", variant: "v6")
        default: return Platform(architecture: machine).normalized
        }
    }
}
