import Foundation
import Testing
import OCI
import Dockerfile
@testable import Build

/// Stand-ins for the store, overlay and runtime that keep everything in temp directories, so the
/// engine's orchestration (cache flow, stage selection, history) is tested without root. The real
/// services are exercised by Tests/IntegrationTests/Build*.swift.
final class FlowWorld: @unchecked Sendable {
    let dir: String
    let lock = NSLock()
    var cache: [Digest: CachedStep] = [:]
    var commands: [String] = []
    var images: [String: ResolvedImage] = [:]
    var written: [(StageImage, [LayerRef], [String])] = []
    /// The `--from` selection memo, and how many read-only views of a source were opened.
    var selections: [Digest: Digest] = [:]
    var views = 0

    init() throws {
        dir = NSTemporaryDirectory() + "slipway-flow-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: dir) }
    func locked<T>(_ f: () -> T) -> T { lock.lock(); defer { lock.unlock() }; return f() }
}

struct FlowStore: EngineStore {
    let w: FlowWorld
    func resolveImage(_ reference: String) async throws -> ResolvedImage? { w.locked { w.images[reference] } }
    func layerDirectory(_ layer: LayerRef, below: [String]) async throws -> String { w.dir + "/layers/" + layer.digest.encoded }
    func cachedStep(_ key: CacheKey) async throws -> CachedStep? { w.locked { w.cache[key.digest] } }
    func recordStep(_ key: CacheKey, _ step: CachedStep) async throws {
        // As the real store: the first result for a key is kept.
        w.locked { if w.cache[key.digest] == nil { w.cache[key.digest] = step } }
    }
    func selectionDigest(_ key: CacheKey) async throws -> Digest? { w.locked { w.selections[key.digest] } }
    func recordSelectionDigest(_ key: CacheKey, _ digest: Digest) async throws { w.locked { w.selections[key.digest] = digest } }
    func commitLayer(upperDirectory: String) async throws -> LayerRef? {
        let names = try FileManager.default.contentsOfDirectory(atPath: upperDirectory).sorted()
        if names.isEmpty { return nil }
        let d = Digest.sha256(names.joined(separator: ",") + UUID().uuidString)
        try FileManager.default.createDirectory(atPath: w.dir + "/layers", withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: upperDirectory, toPath: w.dir + "/layers/" + d.encoded)
        return LayerRef(digest: d, diffID: d, size: Int64(names.count), mediaType: "test")
    }
    func writeImage(_ image: StageImage, layers: [LayerRef], tags: [String]) async throws -> WrittenImage {
        w.locked { w.written.append((image, layers, tags)) }
        let d = Digest.sha256("\(image.history.map(\.createdBy))\(layers.map(\.digest))")
        return WrittenImage(id: d, manifestDigest: d, size: layers.reduce(0) { $0 + $1.size })
    }
}

struct DirSnapshot: RootSnapshot {
    let root: String
    var upper: String? { root }
    func unmount() async throws {}
    func discard() async { try? FileManager.default.removeItem(atPath: root) }
}

struct FlowSnapshotter: Snapshotter {
    let w: FlowWorld
    func writable(lowers: [String]) async throws -> any RootSnapshot {
        let d = w.dir + "/snap-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return DirSnapshot(root: d)
    }
    func readOnly(lowers: [String]) async throws -> any RootSnapshot {
        // The top layer is enough for these tests' COPY --from; releasing the view keeps it.
        w.locked { w.views += 1 }
        return ViewSnapshot(root: lowers.first ?? w.dir)
    }
}

/// A read-only view of a layer directory: discarding it leaves the layer alone.
struct ViewSnapshot: RootSnapshot {
    let root: String
    var upper: String? { nil }
    func unmount() async throws {}
    func discard() async {}
}

/// Understands `touch NAME`, `fail`, and records every command.
struct FlowExecutor: StepExecutor {
    let w: FlowWorld
    func run(_ process: StepProcess, lowers: [String], output: @escaping @Sendable (String) -> Void) async throws -> any RootSnapshot {
        let cmd = process.argv.last ?? ""
        w.locked { w.commands.append(cmd) }
        output("running \(cmd)")
        let snap = try await FlowSnapshotter(w: w).writable(lowers: lowers)
        if cmd.hasPrefix("fail") {
            output("boom")
            await snap.discard()
            throw StepExitError(status: 3, tail: ["boom"])
        }
        if cmd.hasPrefix("touch ") {
            _ = FileManager.default.createFile(atPath: snap.root + "/" + cmd.dropFirst(6), contents: Data())
        }
        // `write NAME TEXT`
        let words = cmd.split(separator: " ", maxSplits: 2).map(String.init)
        if words.count == 3, words[0] == "write" {
            _ = FileManager.default.createFile(atPath: snap.root + "/" + words[1], contents: Data(words[2].utf8))
        }
        return snap
    }
}

struct FlowCopier: FileCopier {
    func sourceDigest(_ op: CopyStep, from: CopySourceRoot) async throws -> Digest {
        let dir: String
        switch from { case .context(let d), .rootfs(let d): dir = d }
        var s = ""
        for src in op.spec.sources {
            guard let data = FileManager.default.contents(atPath: dir + "/" + src) else {
                throw BuildError.invalidBuildArg("missing \(src)")
            }
            s += src + String(decoding: data, as: UTF8.self)
        }
        return Digest.sha256(s)
    }
    func copy(_ op: CopyStep, from: CopySourceRoot, into root: String, workdir: String) async throws {
        let dir: String
        switch from { case .context(let d), .rootfs(let d): dir = d }
        for src in op.spec.sources {
            let name = (src as NSString).lastPathComponent
            try FileManager.default.copyItem(atPath: dir + "/" + src, toPath: root + "/" + name)
        }
    }
}

@Suite("Engine: build flow over stand-in services")
struct EngineFlowTests {
    func engine(_ w: FlowWorld) -> BuildEngine {
        BuildEngine(store: FlowStore(w: w), snapshotter: FlowSnapshotter(w: w), executor: FlowExecutor(w: w),
                    copier: FlowCopier(), progress: ProgressReporter(mode: .quiet))
    }

    static let dockerfile = """
        FROM scratch AS builder
        COPY app.txt .
        RUN touch built
        FROM scratch AS unused
        RUN fail
        FROM scratch
        COPY --from=builder built /
        ENV MODE=prod
        CMD ["/built"]
        """

    func plan(target: String? = nil, buildArgs: [String: String] = [:]) throws -> BuildPlan {
        try BuildPlan(dockerfile: Self.dockerfile, options: BuildOptions(target: target, buildArgs: buildArgs))
    }

    @Test("unused stages never run; a rebuild with no change runs no RUN; editing a source re-runs from its COPY")
    func cacheFlow() async throws {
        let w = try FlowWorld()
        let ctx = w.dir + "/ctx"
        try FileManager.default.createDirectory(atPath: ctx, withIntermediateDirectories: true)
        try "v1".write(toFile: ctx + "/app.txt", atomically: true, encoding: .utf8)
        let e = engine(w)

        let first = try await e.build(BuildRequest(plan: try plan(), contextDirectory: ctx, tags: ["app:1"]))
        #expect(first.stagesBuilt == [0, 2])
        #expect(w.commands == ["touch built"])
        let hist = first.target.image.history.map(\.createdBy)
        #expect(hist == ["COPY built / # buildkit", "ENV MODE=prod", "CMD [\"/built\"]"])
        #expect(first.target.image.config.env.contains("MODE=prod"))

        let second = try await e.build(BuildRequest(plan: try plan(), contextDirectory: ctx))
        #expect(w.commands == ["touch built"], "no RUN on a no-change rebuild")
        #expect(second.written?.id == first.written?.id)

        try "v2".write(toFile: ctx + "/app.txt", atomically: true, encoding: .utf8)
        let third = try await e.build(BuildRequest(plan: try plan(), contextDirectory: ctx))
        #expect(w.commands == ["touch built", "touch built"])
        // The builder re-ran but wrote the same (empty) file: COPY --from is keyed by content.
        #expect(third.target.layers == first.target.layers, "COPY --from of identical content is a cache hit")
        #expect(third.written?.id == first.written?.id)

        _ = try await e.build(BuildRequest(plan: try plan(), contextDirectory: ctx, noCache: true))
        #expect(w.commands.count == 3, "--no-cache runs every step")
    }

    @Test("build args no ARG declares are reported, predefined ones are not")
    func unusedBuildArgs() throws {
        let text = Self.dockerfile.replacingOccurrences(of: "COPY app.txt .", with: "ARG VERSION\nCOPY app.txt .")
        let p = try BuildPlan(dockerfile: text, options: BuildOptions(buildArgs: ["VERSION": "1", "TYPO": "x", "HTTP_PROXY": "p"]))
        #expect(p.unconsumedBuildArgs == ["TYPO"])
    }

    @Test("a failing RUN reports line, command, exit code and output tail")
    func failingRun() async throws {
        let w = try FlowWorld()
        let p = try plan(target: "unused")
        do {
            _ = try await engine(w).build(BuildRequest(plan: p, contextDirectory: w.dir))
            Issue.record("build should fail")
        } catch let e as BuildError {
            let text = e.description
            #expect(text.contains("Dockerfile:5: RUN fail"))
            #expect(text.contains("exited with code 3"))
            #expect(text.contains("boom"))
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: w.dir).filter { $0.hasPrefix("snap-") }
        #expect(leftovers.isEmpty, "snapshots are removed after a failure")
    }

    @Test("missing base image is a clear error naming the line")
    func missingBase() async throws {
        let w = try FlowWorld()
        let p = try BuildPlan(dockerfile: "\n\nFROM nope:1\n")
        await #expect(throws: BuildError.self) { _ = try await engine(w).build(BuildRequest(plan: p, contextDirectory: w.dir)) }
        do { _ = try await engine(w).build(BuildRequest(plan: p, contextDirectory: w.dir)) } catch {
            #expect("\(error)".contains("Dockerfile:3: base image \"nope:1\" is not in the store"))
        }
    }
}
