import Foundation
import OCI

/// The cache key of one build step: sha256 over the parent step's key, the instruction with
/// its arguments expanded, the build args the step can see (sorted), for COPY/ADD the digest
/// of the sources' content and metadata, and the instruction's flags (sorted). Every field is
/// length-prefixed and tagged, so no two different inputs serialise alike; the order in which
/// args or flags are added does not matter.
public struct CacheKey: Sendable, Hashable {
    /// Bump when the key's inputs or encoding change, so old cache entries stop matching.
    public static let version = "slipway-cache-v1"

    public var parent: Digest?
    public var instruction: String
    public var buildArgs: [String: String]
    public var sourceDigests: [Digest]
    public var flags: [String: String]
    /// Anything else that changes the result (platform, base image digest, network mode...).
    public var extra: [String: String]

    public init(parent: Digest?, instruction: String, buildArgs: [String: String] = [:],
                sourceDigests: [Digest] = [], flags: [String: String] = [:], extra: [String: String] = [:]) {
        self.parent = parent
        self.instruction = instruction
        self.buildArgs = buildArgs
        self.sourceDigests = sourceDigests
        self.flags = flags
        self.extra = extra
    }

    /// The key for a COPY/ADD: hashes only the sources `spec` names (wildcards resolved,
    /// .dockerignore and --exclude applied) and records every flag that changes the result.
    /// A linked copy (`--link` without `--chmod`, see `LinkedCopy`) leaves `parent` out: its
    /// layer is made in an empty root, so nothing below it can change it.
    /// Throws `CopyError` for missing or escaping sources.
    public static func forCopy(parent: Digest?, instruction: String, buildArgs: [String: String] = [:],
                               spec: CopySpec, source: BuildContext, remoteDigests: [Digest] = []) throws -> CacheKey {
        let digest = try Copier.sourceDigest(spec, from: source)
        var flags: [String: String] = ["dest": spec.destination, "workdir": spec.workdir]
        if let c = spec.chown { flags["chown"] = c }
        if let m = spec.chmod { flags["chmod"] = m }
        if !spec.excludes.isEmpty { flags["exclude"] = spec.excludes.joined(separator: "\u{1}") }
        if spec.parents { flags["parents"] = "true" }
        if spec.link { flags["link"] = "true" }
        if let u = spec.unpack { flags["unpack"] = String(u) }
        if let c = spec.checksum { flags["checksum"] = c }
        flags["sources"] = spec.sources.joined(separator: "\u{1}")
        let linked = spec.link && (spec.chmod ?? "").isEmpty
        return CacheKey(parent: linked ? nil : parent, instruction: instruction, buildArgs: buildArgs,
                        sourceDigests: [digest] + remoteDigests, flags: flags)
    }

    public var digest: Digest {
        var buf = Data()
        func field(_ tag: String, _ value: String) {
            let v = Data(value.utf8)
            buf.append(Data("\(tag):\(v.count):".utf8))
            buf.append(v)
            buf.append(0x0a)
        }
        field("version", Self.version)
        field("parent", parent?.description ?? "")
        field("instruction", instruction)
        for (k, v) in buildArgs.sorted(by: { $0.key < $1.key }) { field("arg", k); field("value", v) }
        for d in sourceDigests { field("source", d.description) }
        for (k, v) in flags.sorted(by: { $0.key < $1.key }) { field("flag", k); field("value", v) }
        for (k, v) in extra.sorted(by: { $0.key < $1.key }) { field("extra", k); field("value", v) }
        return Digest.sha256(buf)
    }
}
