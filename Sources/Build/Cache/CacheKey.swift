import Foundation
import OCI

/// The cache key of one build step — the only place keys are made (BuildKit's solver, not its
/// frontend, owns cache keys; here `Build/Cache` does). A key is a kind plus an ordered list of
/// tagged fields; its identity (`digest`) is the sha256 of an injective encoding: a format
/// version, the kind, then every field as its tag, a marker (`=` for one value, `#N` for a
/// list of N) and its values, each of these length-prefixed (`<byte count>:<bytes>`). No two different inputs serialise alike, whatever bytes the
/// values hold (newlines, NUL, `=`, `:`, backslashes). Bump `formatVersion` whenever a kind's
/// inputs or the encoding change, so records written by older builds stop matching.
///
/// The constructors below name every input of each kind of step. Filesystem steps chain on
/// their parent's key *and* on the layers they are built on (`layers`, the diffIDs of the
/// stage's filesystem so far), so a record can only be reused over the exact content it was
/// made on: a parent record replaced by a re-run that produced other bytes can never be
/// combined with a child made over the old bytes.
public struct CacheKey: Sendable, Hashable, CustomStringConvertible {
    /// Bump when inputs or encoding change (v1 was the newline-joined `StepKey`).
    public static let formatVersion = 2

    /// What kind of step the key is for: part of the encoding, so equal fields of two kinds
    /// never collide.
    public enum Kind: String, Sendable, Hashable {
        /// A stage's starting point: `FROM scratch` (and its platform).
        case scratch
        /// A stage's starting point: an image, by config digest.
        case image
        case run
        case copy
        /// A linked COPY/ADD's own layer (no parent: it is made in an empty root).
        case linkLayer
        /// The stage after a linked COPY/ADD: parent + the linked layer's key.
        case link
        case workdir
        /// A step that changes only the image config (ENV, LABEL, ARG, USER, ...).
        case metadata
        /// The memo of a `--from` selection's content digest.
        case selection
        /// A filesystem step's key with SOURCE_DATE_EPOCH applied (its own records: the layer
        /// bytes and times differ).
        case epoch
    }

    public struct Field: Sendable, Hashable {
        public var tag: String
        public var values: [String]
        /// A scalar field (one value) is encoded without a count, a list with one.
        public var isList: Bool
    }

    public let kind: Kind
    public private(set) var fields: [Field] = []

    public init(_ kind: Kind, parent: CacheKey? = nil) {
        self.kind = kind
        if let parent { add("parent", parent.digest.description) }
    }

    /// Adds one tagged value.
    public mutating func add(_ tag: String, _ value: String) {
        fields.append(Field(tag: tag, values: [value], isList: false))
    }

    /// Adds a tagged list (its count is encoded, so adjacent lists cannot trade elements).
    public mutating func add(_ tag: String, list: [String]) {
        fields.append(Field(tag: tag, values: list, isList: true))
    }

    /// Adds the layers a filesystem step is built on (bottom first, by diffID).
    public mutating func add(layers: [Digest]) {
        add("layers", list: layers.map(\.description))
    }

    /// The bytes hashed for `digest`.
    public var encoded: Data {
        var buf = Data()
        func put(_ s: String) {
            let bytes = Array(s.utf8)
            buf.append(contentsOf: Array("\(bytes.count):".utf8))
            buf.append(contentsOf: bytes)
        }
        put("slipway-cache-key")
        put(String(Self.formatVersion))
        put(kind.rawValue)
        for f in fields {
            put(f.tag)
            put(f.isList ? "#\(f.values.count)" : "=")
            for v in f.values { put(v) }
        }
        return buf
    }

    /// The key's identity: what cache records are stored under.
    public var digest: Digest { Digest.sha256(encoded) }

    public var description: String { "\(kind.rawValue) \(digest)" }

    public static func == (a: CacheKey, b: CacheKey) -> Bool { a.digest == b.digest }
    public func hash(into h: inout Hasher) { h.combine(digest) }
}

// MARK: - one constructor per kind of step

extension CacheKey {
    /// `FROM scratch`, for the build's platform or `--platform`.
    public static func scratch(platform: String?) -> CacheKey {
        var k = CacheKey(.scratch)
        k.add("platform", platform ?? "")
        return k
    }

    /// `FROM image`: the image's config digest names its layers (diff_ids) and config exactly.
    public static func image(configDigest: Digest) -> CacheKey {
        var k = CacheKey(.image)
        k.add("config", configDigest.description)
        return k
    }

    /// Everything a RUN's result depends on besides the mounts' content: the command after
    /// SHELL and heredoc rules, the process environment (ENV and the ARGs in scope, so a build
    /// arg counts only where it is visible), user, working directory, network and security
    /// mode, the heredoc script it executes, each mount's options (secrets by id, never their
    /// value) and content identity, and whether the host's CA bundle is mounted.
    public static func run(parent: CacheKey, layers: [Digest], argv: [String], env: [String], user: String,
                           workdir: String, network: String, security: String, script: (name: String, data: String)?,
                           mounts: [[String]], hostCABundle: Bool, platform: String) -> CacheKey {
        var k = CacheKey(.run, parent: parent)
        // The platform the process runs as (natively or emulated): an amd64 step's record is
        // never an arm64 step's, even over the same layers.
        k.add("platform", platform)
        k.add(layers: layers)
        k.add("argv", list: argv)
        k.add("env", list: env)
        k.add("user", user)
        k.add("workdir", workdir)
        k.add("network", network)
        k.add("security", security)
        k.add("script", list: script.map { [$0.name, $0.data] } ?? [])
        k.add("mounts", list: mounts.map { String($0.count) })
        for m in mounts { k.add("mount", list: m) }
        k.add("host-ca-bundle", hostCABundle ? "1" : "0")
        return k
    }

    /// COPY/ADD's inputs, except the parent: the instruction, the sources as written and the
    /// digest of the content they select, where from (the context's name, or "layers" for a
    /// stage or image — keyed by content as BuildKit does), the resolved destination, owner,
    /// mode, every flag that changes the result and the heredoc files.
    public static func copyInputs(into k: inout CacheKey, _ copy: CopyStep, destination: String, destinationIsDirectory: Bool,
                                  sourceIdentity: String, sourceDigest: Digest) {
        let s = copy.spec
        k.add("instruction", s.instructionName)
        k.add("destination", destination)
        k.add("destination-is-directory", destinationIsDirectory ? "1" : "0")
        k.add("chown", s.chown ?? "")
        k.add("chmod", s.chmod ?? "")
        k.add("source-identity", sourceIdentity)
        k.add("source-digest", sourceDigest.description)
        k.add("sources", list: s.sources)
        k.add("heredocs", list: copy.heredocs.flatMap { [$0.name, $0.content] })
        k.add("excludes", list: s.excludes)
        k.add("parents", s.parents ? "1" : "0")
        k.add("link", s.link ? "1" : "0")
        k.add("unpack", s.unpack.map { $0 ? "1" : "0" } ?? "")
        k.add("checksum", s.checksum ?? "")
        k.add("keep-git-dir", s.keepGitDir.map { $0 ? "1" : "0" } ?? "")
    }

    /// A plain COPY/ADD on top of the stage's filesystem.
    public static func copy(parent: CacheKey, layers: [Digest], _ copy: CopyStep, workdir: String,
                            sourceIdentity: String, sourceDigest: Digest) -> CacheKey {
        var k = CacheKey(.copy, parent: parent)
        k.add(layers: layers)
        k.add("workdir", workdir)
        // The relative destination as written and the WORKDIR both count (BuildKit keys the
        // FileOp's resolved path; keeping both is stricter and costs nothing).
        let (dest, isDir) = CopySpec(sources: copy.spec.sources, destination: copy.spec.destination, workdir: workdir).resolvedDestination
        k.add("destination-as-written", copy.spec.destination)
        copyInputs(into: &k, copy, destination: dest, destinationIsDirectory: isDir, sourceIdentity: sourceIdentity, sourceDigest: sourceDigest)
        return k
    }

    /// A linked COPY/ADD's layer: no parent and no layers below, on purpose (see `LinkedCopy`):
    /// the absolute destination, so a relative one under another WORKDIR that resolves alike
    /// still matches.
    public static func linkLayer(_ copy: CopyStep, workdir: String, sourceIdentity: String, sourceDigest: Digest) -> CacheKey {
        var k = CacheKey(.linkLayer)
        let (dest, isDir) = CopySpec(sources: copy.spec.sources, destination: copy.spec.destination, workdir: workdir).resolvedDestination
        copyInputs(into: &k, copy, destination: dest, destinationIsDirectory: isDir, sourceIdentity: sourceIdentity, sourceDigest: sourceDigest)
        return k
    }

    /// The stage after a linked layer: its parent and the layer's key.
    public static func link(parent: CacheKey, layerKey: CacheKey) -> CacheKey {
        var k = CacheKey(.link, parent: parent)
        k.add("layer-key", layerKey.digest.description)
        return k
    }

    /// WORKDIR creates the directory (as the stage's user).
    public static func workdir(parent: CacheKey, layers: [Digest], path: String, user: String) -> CacheKey {
        var k = CacheKey(.workdir, parent: parent)
        k.add(layers: layers)
        k.add("path", path)
        k.add("user", user)
        return k
    }

    /// A config-only step: its keyword and expanded arguments (as the frontend typed them) and
    /// the variables in scope after it.
    public static func metadata(parent: CacheKey, keyword: String, arguments: [String], scope: [String]) -> CacheKey {
        var k = CacheKey(.metadata, parent: parent)
        k.add("keyword", keyword)
        k.add("arguments", list: arguments)
        k.add("scope", list: scope)
        return k
    }

    /// The memo key of the content digest of a `--from` selection in a source made of `layers`
    /// (bottom first): the sources as written, `--exclude`, `--parents` and the heredoc bodies.
    public static func selection(layers: [Digest], sources: [String], excludes: [String], parents: Bool,
                                 heredocs: [(name: String, content: String)]) -> CacheKey {
        var k = CacheKey(.selection)
        k.add(layers: layers)
        k.add("sources", list: sources)
        k.add("excludes", list: excludes)
        k.add("parents", parents ? "1" : "0")
        k.add("heredocs", list: heredocs.flatMap { [$0.name, $0.content] })
        return k
    }

    /// A filesystem step's key when SOURCE_DATE_EPOCH clamps the layer's times.
    public static func epoch(_ key: CacheKey, _ epoch: Int64) -> CacheKey {
        var k = CacheKey(.epoch, parent: key)
        k.add("source-date-epoch", String(epoch))
        return k
    }
}
