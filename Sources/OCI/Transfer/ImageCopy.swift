import Foundation

/// What a copy did.
public struct ImageCopyResult: Sendable {
    /// The platform manifest that was copied (not the index's digest), as the destination stored it.
    public var manifestDigest: Digest
    public var config: ImageConfig
    /// The config blob's digest: the image ID.
    public var configDigest: Digest
    /// The digest of what the reference named in the source: an index's when it named one
    /// (docker's RepoDigests show that), else the manifest's.
    public var namedDigest: Digest? = nil
    /// Blobs copied, blobs the destination already had, blobs it mounted, bytes moved.
    public var copiedBlobs = 0
    public var skippedBlobs = 0
    public var mountedBlobs = 0
    public var bytes: Int64 = 0
}

/// Copies one image from any `ImageSource` to any `ImageDestination`: `pull` (registry → store),
/// `push` (store → registry), `--build-context oci-layout://` (layout → store) are this one
/// algorithm. It resolves an index to one platform, copies the config first (an explicit
/// platform must match a plain manifest), checks that manifest and config agree, copies the
/// layers concurrently (skipping what the destination has), and publishes the manifest last.
public struct ImageCopy: Sendable {
    public var source: any ImageSource
    public var destination: any ImageDestination
    /// Blobs copied at the same time.
    public var concurrency: Int
    /// One line per notable event, in the words of the caller (`Messages`).
    public var progress: (@Sendable (String) -> Void)?
    public var messages: Messages

    /// The progress lines of a copy; pull and push word them as docker does.
    public struct Messages: Sendable {
        public var skipped: @Sendable (Digest) -> String
        public var starting: @Sendable (Descriptor) -> String?
        public var copied: @Sendable (Descriptor) -> String
        public var mounted: @Sendable (Descriptor, String) -> String

        public init(skipped: @escaping @Sendable (Digest) -> String, starting: @escaping @Sendable (Descriptor) -> String?,
                    copied: @escaping @Sendable (Descriptor) -> String, mounted: @escaping @Sendable (Descriptor, String) -> String) {
            self.skipped = skipped
            self.starting = starting
            self.copied = copied
            self.mounted = mounted
        }

        public static let plain = Messages(
            skipped: { "\($0.short): already present" },
            starting: { "\($0.digest.short): copying \(ByteCount.format($0.size))" },
            copied: { "\($0.digest.short): done" },
            mounted: { "\($0.digest.short): mounted from \($1)" })
    }

    public init(from source: any ImageSource, to destination: any ImageDestination, concurrency: Int = 4,
                progress: (@Sendable (String) -> Void)? = nil, messages: Messages = .plain) {
        self.source = source
        self.destination = destination
        self.concurrency = max(1, concurrency)
        self.progress = progress
        self.messages = messages
    }

    /// Copies the image `reference` (tag or digest) names in the source, publishing it under
    /// `names`. `platform` chooses from an index (the host's by default) and, when given,
    /// must match a single-platform image.
    public func copy(_ reference: String, names: [ImageReference] = [], platform: Platform? = nil) async throws -> ImageCopyResult {
        let what = "\(source.description)\(reference.hasPrefix("sha256:") ? "@" : ":")\(reference)"
        let wanted = platform ?? Platform.host
        var fetched = try await source.manifest(reference)
        let named = fetched.digest
        let fromIndex = fetched.isIndex
        if fromIndex {
            let index = try ImageIndex.decode(fetched.bytes, source: "index of \(what)")
            guard let chosen = index.bestManifest(for: wanted), !MediaType.isIndex(chosen.mediaType) else {
                throw TransferError.noMatchingPlatform(wanted: wanted.description,
                                                       available: index.manifests.compactMap { $0.platform?.description })
            }
            progress?("\(what): platform \(wanted) is \(chosen.digest.short)")
            fetched = try await source.manifest(chosen.digest.description)
            if fetched.isIndex {
                throw TransferError.invalidImage(what: what, reason: "index entry \(chosen.digest) is itself an index; nested indexes are not supported")
            }
        }
        let manifest: ImageManifest
        do { manifest = try ImageManifest.decode(fetched.bytes, source: "manifest of \(what)") } catch {
            throw TransferError.invalidImage(what: what, reason: "\(error) (schema 1 manifests are not supported)")
        }
        let tally = Tally()
        try await copyBlob(manifest.config, tally: tally)
        let configBytes: [UInt8]
        if let back = try destination.readBack(manifest.config) { configBytes = back } else { configBytes = try await source.readBlob(manifest.config) }
        let config = try ImageConfig.decode(configBytes, source: "config of \(what)")
        if let platform, !fromIndex {
            let actual = Platform(os: config.os, architecture: config.architecture, variant: config.variant)
            guard actual.matches(platform) else {
                throw TransferError.noMatchingPlatform(wanted: platform.description, available: [actual.description])
            }
        }
        _ = try Self.expectedDiffIDs(manifest: manifest, config: config, what: what)
        try await forEachConcurrently(manifest.layers) { try await copyBlob($0, tally: tally) }
        let digest = try await destination.putManifest(fetched, parsed: manifest, config: config, names: names, reference: reference)
        var result = tally.result
        result.manifestDigest = digest
        result.config = config
        result.configDigest = manifest.config.digest
        result.namedDigest = named
        return result
    }

    private func copyBlob(_ descriptor: Descriptor, tally: Tally) async throws {
        if try await destination.hasBlob(descriptor) {
            tally.skip()
            progress?(messages.skipped(descriptor.digest))
            return
        }
        if let line = messages.starting(descriptor) { progress?(line) }
        let reporter = QuarterReporter(label: descriptor.digest.short, total: descriptor.size, sink: progress)
        switch try await destination.putBlob(descriptor, from: source, progress: { reporter.report($0) }) {
        case .copied(let n):
            tally.copied(n)
            progress?(messages.copied(descriptor))
        case .mounted(let from):
            tally.mount()
            progress?(messages.mounted(descriptor, from))
        }
    }

    /// The diff_id the config lists for each layer blob. A manifest and config that disagree on
    /// the layer count, or that give one blob two diff_ids, are refused before anything is published.
    public static func expectedDiffIDs(manifest: ImageManifest, config: ImageConfig, what: String) throws -> [Digest: Digest] {
        let diffIDs = config.rootfs.diffIDs
        guard diffIDs.count == manifest.layers.count else {
            throw TransferError.invalidImage(what: what, reason: "the manifest lists \(manifest.layers.count) layers but its config has \(diffIDs.count) diff_ids")
        }
        var expected: [Digest: Digest] = [:]
        for (layer, diffID) in zip(manifest.layers, diffIDs) {
            if let other = expected[layer.digest], other != diffID {
                throw TransferError.invalidImage(what: what, reason: "layer \(layer.digest) is listed with two diff_ids (\(other), \(diffID))")
            }
            expected[layer.digest] = diffID
        }
        return expected
    }

    /// Runs `body` for every descriptor (duplicates once), at most `concurrency` at a time;
    /// the first error cancels the rest.
    private func forEachConcurrently(_ descriptors: [Descriptor],
                                     _ body: @escaping @Sendable (Descriptor) async throws -> Void) async throws {
        var seen = Set<Digest>()
        let unique = descriptors.filter { seen.insert($0.digest).inserted }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            let concurrency = destination.sequential ? 1 : self.concurrency
        while next < unique.count && next < concurrency {
                let d = unique[next]
                group.addTask { try await body(d) }
                next += 1
            }
            while try await group.next() != nil {
                if next < unique.count {
                    let d = unique[next]
                    group.addTask { try await body(d) }
                    next += 1
                }
            }
        }
    }
}

/// Thread-safe tallies of a copy's concurrent blob transfers.
private final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var value = ImageCopyResult(manifestDigest: Digest.sha256(Data()), config: ImageConfig(), configDigest: Digest.sha256(Data()))

    func copied(_ n: Int64) { lock.withLock { value.bytes += n; value.copiedBlobs += 1 } }
    func skip() { lock.withLock { value.skippedBlobs += 1 } }
    func mount() { lock.withLock { value.mountedBlobs += 1 } }
    var result: ImageCopyResult { lock.withLock { value } }
}

/// Emits a progress line when a copy crosses 25%, 50% and 75%.
private final class QuarterReporter: @unchecked Sendable {
    private let lock = NSLock()
    private let label: String
    private let total: Int64
    private let sink: (@Sendable (String) -> Void)?
    private var quarter = 0

    init(label: String, total: Int64, sink: (@Sendable (String) -> Void)?) {
        self.label = label
        self.total = total
        self.sink = sink
    }

    func report(_ done: Int64) {
        guard total > 0, let sink else { return }
        let q = Int(done * 4 / total)
        let crossed: Int? = lock.withLock {
            guard q > quarter, q < 4 else { return nil }
            quarter = q
            return q
        }
        if let crossed { sink("\(label): \(crossed * 25)% of \(ByteCount.format(total))") }
    }
}
