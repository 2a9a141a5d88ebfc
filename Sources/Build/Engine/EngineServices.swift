import Foundation
import OCI

/// A layer of a stage's root filesystem, as the engine tracks it.
public struct LayerRef: Sendable, Codable, Hashable {
    /// Digest of the compressed blob in the store.
    public var digest: Digest
    /// Digest of the uncompressed tar (the config's rootfs.diff_ids entry).
    public var diffID: Digest
    /// Size of the compressed blob.
    public var size: Int64
    public var mediaType: String
    /// Bytes of the uncompressed tar: what the step wrote (the store's `LayerRecord.uncompressedSize`;
    /// nil when the store does not know it).
    public var uncompressedSize: Int64?

    public init(digest: Digest, diffID: Digest, size: Int64, mediaType: String, uncompressedSize: Int64? = nil) {
        self.digest = digest
        self.diffID = diffID
        self.size = size
        self.mediaType = mediaType
        self.uncompressedSize = uncompressedSize
    }
}

/// A base image found in the store (or pulled).
public struct ResolvedImage: Sendable {
    /// Stable identity for cache keys (the image's config digest).
    public var id: Digest
    public var image: StageImage
    public var layers: [LayerRef]
    /// ONBUILD triggers of the image, run first by a stage built FROM it.
    public var onBuild: [String]

    public init(id: Digest, image: StageImage, layers: [LayerRef], onBuild: [String] = []) {
        self.id = id
        self.image = image
        self.layers = layers
        self.onBuild = onBuild
    }
}

/// What a cached step produced: its layer, or nil when the step changed nothing.
public struct CachedStep: Sendable, Codable, Equatable {
    public var layer: LayerRef?
    /// When the step first ran: history times come from here so a cached rebuild gives the same image.
    public var created: Date
    /// Where the record came from, set when it is looked up (not part of the record's JSON): nil
    /// for a record a build in this store wrote, else the `--cache-from` cache it was imported
    /// from (`CacheRecord.origin`).
    public var importedFrom: String?

    public init(layer: LayerRef?, created: Date, importedFrom: String? = nil) {
        self.layer = layer
        self.created = created
        self.importedFrom = importedFrom
    }

    enum CodingKeys: String, CodingKey { case layer, created }
}

/// The result of a finished image write.
public struct WrittenImage: Sendable {
    /// The image ID (config digest), what `docker images` shows.
    public var id: Digest
    public var manifestDigest: Digest
    /// Sum of the layer blobs plus config (compressed size).
    public var size: Int64
    public init(id: Digest, manifestDigest: Digest, size: Int64) {
        self.id = id
        self.manifestDigest = manifestDigest
        self.size = size
    }
}

/// The store operations the engine needs (implemented over the OCI store).
public protocol EngineStore: Sendable {
    /// The image `reference` names, or nil when the store does not have it.
    func resolveImage(_ reference: String) async throws -> ResolvedImage?
    /// A directory holding `layer` unpacked in overlay-lower form (whiteouts as 0:0 devices).
    /// `below`: the directories of the layers under it, topmost first — a parent directory
    /// the layer's tar implies but does not hold takes its metadata from them (containerd's
    /// rule, `LayerApplier.lowerDirectories`), so `/tmp` of a base stays 1777.
    func layerDirectory(_ layer: LayerRef, below: [String]) async throws -> String
    func cachedStep(_ key: CacheKey) async throws -> CachedStep?
    /// Records what a step produced. A key that already has a usable record keeps it (the
    /// first result wins; a re-run never silently replaces it with other bytes).
    func recordStep(_ key: CacheKey, _ step: CachedStep) async throws
    /// Turns an overlay upper directory into a layer blob and keeps the directory as the layer's
    /// unpacked form. Returns nil when the directory holds no change.
    func commitLayer(upperDirectory: String) async throws -> LayerRef?
    /// Writes config + manifest for `image` over `layers` and points `tags` at it.
    func writeImage(_ image: StageImage, layers: [LayerRef], tags: [String]) async throws -> WrittenImage
    /// Called once when the build ends (`succeeded` false when it failed): bookkeeping batched
    /// over the whole build, such as marking the cache records it used.
    func finishBuild(succeeded: Bool) async throws
    /// The content digest remembered under `key` (`CacheKey.selection`), or nil.
    func selectionDigest(_ key: CacheKey) async throws -> Digest?
    /// Remembers the content digest of a `--from` selection for later builds.
    func recordSelectionDigest(_ key: CacheKey, _ digest: Digest) async throws
    /// What the same step (the first of `scopes` known) was made of when it last ran.
    func previousStepInputs(scopes: [Digest]) async throws -> StepInputs?
    /// Remembers what a step that ran was made of (kept by `finishBuild`); explanatory only.
    func recordStepInputs(_ inputs: StepInputs, key: Digest, scopes: [Digest]) async
}

extension EngineStore {
    /// The directories of `layers` (bottom first), topmost first, each unpacked over the ones
    /// below it: what an overlay mount takes as `lowerdir`.
    public func lowerDirectories(_ layers: [LayerRef]) async throws -> [String] {
        var dirs: [String] = []
        for l in layers { dirs.insert(try await layerDirectory(l, below: dirs), at: 0) }
        return dirs
    }

    public func finishBuild(succeeded: Bool) async throws {}
    /// Stores that keep no memo: every `--from` selection is hashed each time.
    public func selectionDigest(_ key: CacheKey) async throws -> Digest? { nil }
    public func recordSelectionDigest(_ key: CacheKey, _ digest: Digest) async throws {}
    /// Stores that keep no history explain every miss as the first.
    public func previousStepInputs(scopes: [Digest]) async throws -> StepInputs? { nil }
    public func recordStepInputs(_ inputs: StepInputs, key: Digest, scopes: [Digest]) async {}
}

/// A mounted root filesystem: overlay of read-only layers plus (when writable) a fresh upper dir.
public protocol RootSnapshot: Sendable {
    /// The merged root to run in or copy into.
    var root: String { get }
    /// The upper directory holding this step's changes (nil for read-only views).
    var upper: String? { get }
    /// Unmounts. After it, `upper` stays on disk until `discard`.
    func unmount() async throws
    /// Removes every directory of the snapshot (upper/work/mountpoint).
    func discard() async
    /// CPU time of the process that made the changes (a RUN), when one ran.
    var cpuSeconds: Double? { get }
}

extension RootSnapshot {
    public var cpuSeconds: Double? { nil }
}

public protocol Snapshotter: Sendable {
    /// A writable overlay over `lowers` (topmost first; may be empty for scratch).
    func writable(lowers: [String]) async throws -> any RootSnapshot
    /// A read-only view over `lowers` (for COPY --from).
    func readOnly(lowers: [String]) async throws -> any RootSnapshot
}

/// The process of a RUN step, with Dockerfile semantics already applied (SHELL, ENV, USER...).
public struct StepProcess: Sendable {
    public var argv: [String]
    public var env: [String]
    public var user: String
    public var workdir: String
    public var network: NetworkMode
    /// RUN --mount binds (cache dirs, secrets, bind sources, ssh sockets); see Build/Mounts.
    public var mounts: [BindMount] = []
    /// RUN --mount=type=tmpfs.
    public var tmpfs: [TmpfsMount] = []
    /// RUN --security=insecure (allowed with `--allow security.insecure`).
    public var insecure = false
    /// Bundle directory on a tmpfs (set when the env holds a secret).
    public var bundleDirectory: String?
    /// Mount the host's CA bundle over the image's (`--add-ca-bundle`).
    public var hostCABundle = false

    public init(argv: [String], env: [String], user: String, workdir: String, network: NetworkMode) {
        self.argv = argv
        self.env = env
        self.user = user
        self.workdir = workdir
        self.network = network
    }
}

/// A RUN process that exited non-zero (adapters map their runtime's error to this).
public struct StepExitError: Error, CustomStringConvertible {
    public var status: Int32
    public var tail: [String]
    /// Why it may have failed, when the executor can tell (`ScratchSpace.lowSpaceNote`).
    public var note: String?
    public init(status: Int32, tail: [String], note: String? = nil) {
        self.status = status
        self.tail = tail
        self.note = note
    }
    public var description: String { "exit code \(status)" }
}

public protocol StepExecutor: Sendable {
    /// Runs `process` over a fresh writable snapshot of `lowers` (topmost first) and returns the
    /// unmounted snapshot holding the changes in `upper`. Throws `StepExitError` on a non-zero
    /// exit; nothing is left mounted when it throws.
    func run(_ process: StepProcess, lowers: [String], output: @escaping @Sendable (String) -> Void) async throws -> any RootSnapshot
}

/// Where COPY/ADD read from.
public enum CopySourceRoot: Sendable {
    /// The build context directory (with .dockerignore applied).
    case context(String)
    /// A mounted root filesystem of a stage or image.
    case rootfs(String)
}

public protocol FileCopier: Sendable {
    /// A digest over the sources' content and metadata (not mtimes) for the cache key.
    func sourceDigest(_ copy: CopyStep, from: CopySourceRoot) async throws -> Digest
    /// Performs COPY/ADD into the mounted `root`, relative paths resolved against `workdir`.
    func copy(_ copy: CopyStep, from: CopySourceRoot, into root: String, workdir: String) async throws
    /// Called once after a successful build: state kept for the next build (file digests).
    func finishBuild() async throws
    /// What `sourceDigest` covers, entry by entry, for explaining a miss (nil: not known).
    func sourceListing(_ copy: CopyStep, from: CopySourceRoot) async throws -> SelectionListing?
}

extension FileCopier {
    public func finishBuild() async throws {}
    public func sourceListing(_ copy: CopyStep, from: CopySourceRoot) async throws -> SelectionListing? { nil }
}
