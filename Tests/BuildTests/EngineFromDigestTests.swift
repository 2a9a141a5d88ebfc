import Foundation
import Testing
import OCI
import Dockerfile
@testable import Build

/// COPY --from is keyed by the content it selects (BuildKit's content-hash selector), with the
/// digest memoised per (source layers, selection) so unchanged sources are never mounted.
@Suite("Engine: COPY --from keyed by content")
struct EngineFromDigestTests {
    func plan(output: String) throws -> BuildPlan {
        try BuildPlan(dockerfile: """
            FROM scratch AS builder
            COPY app.txt .
            RUN write out \(output)
            FROM scratch
            COPY --from=builder out /
            RUN touch after
            """)
    }

    @Test("a re-run builder with identical output keeps COPY --from cached; new output re-runs it; no-change rebuilds mount nothing")
    func contentKeyed() async throws {
        let w = try FlowWorld()
        let ctx = w.dir + "/ctx"
        try FileManager.default.createDirectory(atPath: ctx, withIntermediateDirectories: true)
        try "v1".write(toFile: ctx + "/app.txt", atomically: true, encoding: .utf8)
        let e = EngineFlowTests().engine(w)

        let first = try await e.build(BuildRequest(plan: try plan(output: "same"), contextDirectory: ctx))
        #expect(w.commands == ["write out same", "touch after"])
        #expect(w.views == 2, "hashed once, copied once")
        #expect(w.selections.count == 1)

        let second = try await e.build(BuildRequest(plan: try plan(output: "same"), contextDirectory: ctx))
        #expect(w.views == 2, "a no-change rebuild takes the digest from the memo and mounts nothing")
        #expect(second.target.layers == first.target.layers)

        // The context edit re-runs the builder (a new layer, same bytes at /out): hashed once
        // more, but the copy and the step after it are cache hits.
        try "v2".write(toFile: ctx + "/app.txt", atomically: true, encoding: .utf8)
        let third = try await e.build(BuildRequest(plan: try plan(output: "same"), contextDirectory: ctx))
        #expect(w.commands == ["write out same", "touch after", "write out same"])
        #expect(w.views == 3, "the new source is hashed, not copied")
        #expect(third.target.layers == first.target.layers)

        // Other bytes at the copied path: the copy and what follows run again.
        let fourth = try await e.build(BuildRequest(plan: try plan(output: "other"), contextDirectory: ctx))
        #expect(w.commands.suffix(2) == ["write out other", "touch after"])
        #expect(fourth.target.layers[0] != first.target.layers[0])
    }

    @Test("the memo key covers the source's layers and the selection, not the stage's name or key")
    func memoKey() {
        let a = Digest.sha256("layer-a"), b = Digest.sha256("layer-b")
        func step(_ sources: [String], dest: String = "/server", from: CopyFrom = .stage(0), excludes: [String] = [],
                  parents: Bool = false) -> CopyStep {
            CopyStep(spec: CopySpec(sources: sources, destination: dest, excludes: excludes, parents: parents), from: from)
        }
        let op = step(["/app/server"])
        let k = SelectionDigest.memoKey(layers: [a, b], copy: op)
        #expect(k == SelectionDigest.memoKey(layers: [a, b], copy: step(["/app/server"], dest: "/elsewhere", from: .stage(3))))
        #expect(k != SelectionDigest.memoKey(layers: [b, a], copy: op))
        #expect(k != SelectionDigest.memoKey(layers: [a], copy: op))
        #expect(k != SelectionDigest.memoKey(layers: [a, b], copy: step(["/app/server"], excludes: ["*.debug"])))
        #expect(k != SelectionDigest.memoKey(layers: [a, b], copy: step(["/app/server"], parents: true)))
    }
}
