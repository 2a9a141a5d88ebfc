import Foundation
import OCI

/// `os/arch[/variant]` as `--platform` takes it; the host's by default.
public struct PlatformChoice: Hashable, Sendable, CustomStringConvertible {
    public var os: String
    public var architecture: String
    public var variant: String?

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// Parses `linux/amd64`, `linux/arm64/v8`, `linux/arm/v7`.
    public init(parsing text: String) throws {
        let parts = text.lowercased().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw RegistryError.invalidName(text, reason: "expected a platform like 'linux/amd64' or 'linux/arm64/v8'")
        }
        self.init(os: parts[0], architecture: Self.normalizedArch(parts[1]), variant: parts.count == 3 ? parts[2] : nil)
    }

    /// The machine this process runs on, in OCI terms.
    public static var host: PlatformChoice {
        var info = utsname()
        uname(&info)
        let machine = withUnsafeBytes(of: &info.machine) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        switch machine {
        case "aarch64", "arm64": return PlatformChoice(os: "linux", architecture: "arm64", variant: "v8")
        case "armv7l": return PlatformChoice(os: "linux", architecture: "arm", variant: "v7")
        default: return PlatformChoice(os: "linux", architecture: normalizedArch(machine))
        }
    }

    static func normalizedArch(_ arch: String) -> String {
        switch arch {
        case "x86_64", "x86-64": return "amd64"
        case "aarch64": return "arm64"
        case "i386", "i686": return "386"
        default: return arch
        }
    }

    public var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }

    /// Whether an index entry's platform satisfies this choice. A missing variant on either side
    /// matches (arm64 images rarely say v8).
    func matches(os: String?, architecture: String?, variant: String?) -> Bool {
        guard os == self.os, architecture.map(Self.normalizedArch) == self.architecture else { return false }
        guard let wanted = self.variant, let have = variant else { return true }
        return wanted == have
    }

    /// Picks the manifest for this platform from an index's bytes.
    public func select(fromIndex data: Data) throws -> (digest: Digest, mediaType: String?, size: Int64?) {
        struct Index: Decodable {
            struct Entry: Decodable {
                struct Platform: Decodable {
                    var os: String?
                    var architecture: String?
                    var variant: String?
                }
                var mediaType: String?
                var digest: Digest
                var size: Int64?
                var platform: Platform?
            }
            var manifests: [Entry]
        }
        let index: Index
        do { index = try JSONDecoder().decode(Index.self, from: data) } catch {
            throw RegistryError.protocolViolation("unreadable image index: \(error)")
        }
        let exact = index.manifests.first { e in
            guard let p = e.platform else { return false }
            return p.os == os && p.architecture.map(Self.normalizedArch) == architecture && p.variant == variant
        }
        if let e = exact ?? index.manifests.first(where: { e in
            e.platform.map { matches(os: $0.os, architecture: $0.architecture, variant: $0.variant) } ?? false
        }) {
            return (e.digest, e.mediaType, e.size)
        }
        let available = index.manifests.compactMap { e in
            e.platform.map { [$0.os, $0.architecture, $0.variant].compactMap { $0 }.joined(separator: "/") }
        }
        throw RegistryError.noMatchingPlatform(wanted: description, available: available)
    }
}
