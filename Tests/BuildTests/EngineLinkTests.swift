import Foundation
import Testing
import OCI
@testable import Build

/// Records the lowers of every writable snapshot the engine asks for (COPY and WORKDIR steps;
/// RUN steps go through the executor).
final class SnapshotLog: @unchecked Sendable {
    let lock = NSLock()
    var lowers: [[String]] = []
    var copies: [String] = []
    func add(_ l: [String]) { lock.lock(); lowers.append(l); lock.unlock() }
    func copied(_ s: String) { lock.lock(); copies.append(s); lock.unlock() }
    func take() -> (lowers: [[String]], copies: [String]) {
        lock.lock(); defer { lowers = []; copies = []; lock.unlock() }
        return (lowers, copies)
    }
}

struct RecordingSnapshotter: Snapshotter {
    let inner: FlowSnapshotter
    let log: SnapshotLog
    func writable(lowers: [String]) async throws -> any RootSnapshot {
        log.add(lowers)
        return try await inner.writable(lowers: lowers)
    }
    func readOnly(lowers: [String]) async throws -> any RootSnapshot { try await inner.readOnly(lowers: lowers) }
}

struct RecordingCopier: FileCopier {
    let log: SnapshotLog
    func sourceDigest(_ op: CopyStep, from: CopySourceRoot) async throws -> Digest {
        try await FlowCopier().sourceDigest(op, from: from)
    }
    func copy(_ op: CopyStep, from: CopySourceRoot, into root: String, workdir: String) async throws {
        log.copied(op.spec.sources.joined(separator: " "))
        try await FlowCopier().copy(op, from: from, into: root, workdir: workdir)
    }
}

/// `COPY --link` through the engine with stand-in services: the copy gets no lowers, its layer
/// is reused when anything below it changes, and the steps after it still rebuild.
@Suite("Engine: COPY --link")
struct EngineLinkTests {
    func engine(_ w: FlowWorld, _ log: SnapshotLog) -> BuildEngine {
        BuildEngine(store: FlowStore(w: w), snapshotter: RecordingSnapshotter(inner: FlowSnapshotter(w: w), log: log),
                    executor: FlowExecutor(w: w), copier: RecordingCopier(log: log),
                    progress: ProgressReporter(mode: .quiet))
    }

    func plan(first: String, chmod: String? = nil, chown: String? = nil) throws -> BuildPlan {
        let flags = (chown.map { " --chown=\($0)" } ?? "") + (chmod.map { " --chmod=\($0)" } ?? "")
        return try BuildPlan(dockerfile: """
            FROM scratch
            RUN \(first)
            COPY --link\(flags) app.txt /app/
            RUN touch after
            """)
    }

    func world() throws -> (FlowWorld, String) {
        let w = try FlowWorld()
        let ctx = w.dir + "/ctx"
        try FileManager.default.createDirectory(atPath: ctx, withIntermediateDirectories: true)
        try "v1".write(toFile: ctx + "/app.txt", atomically: true, encoding: .utf8)
        return (w, ctx)
    }

    @Test("the linked copy sees no parent; editing an earlier RUN reuses its layer and reruns what follows")
    func reuse() async throws {
        let (w, ctx) = try world()
        let log = SnapshotLog()
        let e = engine(w, log)
        let first = try await e.build(BuildRequest(plan: try plan(first: "touch one"), contextDirectory: ctx))
        let ran = log.take()
        #expect(ran.lowers == [[]], "the copy runs over an empty root, not the RUN's layer")
        #expect(ran.copies == ["app.txt"])
        #expect(first.target.layers.count == 3)

        let second = try await e.build(BuildRequest(plan: try plan(first: "touch two"), contextDirectory: ctx))
        #expect(log.take().copies.isEmpty, "the linked copy is a cache hit")
        #expect(w.commands == ["touch one", "touch after", "touch two", "touch after"], "the step after the link reruns")
        #expect(second.target.layers.count == 3)
        #expect(second.target.layers[1] == first.target.layers[1], "same layer, reused as is")
        #expect(second.target.layers[0] != first.target.layers[0])
        #expect(second.target.image.history.map(\.createdBy)[1] == "COPY app.txt /app/ # buildkit")

        // The content still matters.
        try "v2".write(toFile: ctx + "/app.txt", atomically: true, encoding: .utf8)
        let third = try await e.build(BuildRequest(plan: try plan(first: "touch two"), contextDirectory: ctx))
        #expect(log.take().copies == ["app.txt"])
        #expect(third.target.layers[1] != first.target.layers[1])
    }

    @Test("--chmod turns --link off, as in BuildKit: the copy runs over the parent and is rebuilt")
    func chmodDisablesLink() async throws {
        let (w, ctx) = try world()
        let log = SnapshotLog()
        let e = engine(w, log)
        _ = try await e.build(BuildRequest(plan: try plan(first: "touch one", chmod: "644"), contextDirectory: ctx))
        let ran = log.take()
        #expect(ran.lowers.count == 1 && ran.lowers[0].count == 1, "over the RUN's layer")
        _ = try await e.build(BuildRequest(plan: try plan(first: "touch two", chmod: "644"), contextDirectory: ctx))
        #expect(log.take().copies == ["app.txt"], "a plain copy depends on its parent")
    }

    @Test("--link with a --chown name is a located error that says to use numeric ids")
    func chownName() async throws {
        let (w, ctx) = try world()
        let e = engine(w, SnapshotLog())
        do {
            _ = try await e.build(BuildRequest(plan: try plan(first: "touch one", chown: "app:app"), contextDirectory: ctx))
            Issue.record("build should fail")
        } catch {
            let text = "\(error)"
            #expect(text.contains("Dockerfile:3:") && text.contains("numeric ids"), "\(text)")
        }
        _ = try await e.build(BuildRequest(plan: try plan(first: "touch one", chown: "1000:root"), contextDirectory: ctx))
    }
}
