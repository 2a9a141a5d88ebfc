import Foundation
import Testing
import OCI
@testable import Build

/// COPY --from is keyed by the content it selects (BuildKit's content-hash selector), with the
/// digest memoised per (source layers, selection) so unchanged sources are never mounted.
@Suite("Engine: COPY --from keyed by content")
struct EngineFromDigestTests {
    func plan(output: String) -> BuildPlan {
        BuildPlan(stages: [
            StagePlan(name: "builder", base: .scratch, baseText: "scratch", line: 1, steps: [
                PlannedStep(line: 2, text: "COPY app.txt .", op: .copy(CopyOp(isAdd: false, sources: ["app.txt"], dest: "."))),
                PlannedStep(line: 3, text: "RUN write out \(output)", op: .run(command: ["write out \(output)"], shellForm: true, network: nil)),
            ]),
            StagePlan(name: nil, base: .scratch, baseText: "scratch", line: 4, steps: [
                PlannedStep(line: 5, text: "COPY --from=builder out /out", op: .copy(CopyOp(isAdd: false, sources: ["out"], dest: "/", from: .stage(0)))),
                PlannedStep(line: 6, text: "RUN touch after", op: .run(command: ["touch after"], shellForm: true, network: nil)),
            ]),
        ], target: 1)
    }

    @Test("a re-run builder with identical output keeps COPY --from cached; new output re-runs it; no-change rebuilds mount nothing")
    func contentKeyed() async throws {
        let w = try FlowWorld()
        let ctx = w.dir + "/ctx"
        try FileManager.default.createDirectory(atPath: ctx, withIntermediateDirectories: true)
        try "v1".write(toFile: ctx + "/app.txt", atomically: true, encoding: .utf8)
        let e = EngineFlowTests().engine(w)

        let first = try await e.build(BuildRequest(plan: plan(output: "same"), contextDirectory: ctx))
        #expect(w.commands == ["write out same", "touch after"])
        #expect(w.views == 2, "hashed once, copied once")
        #expect(w.selections.count == 1)

        let second = try await e.build(BuildRequest(plan: plan(output: "same"), contextDirectory: ctx))
        #expect(w.views == 2, "a no-change rebuild takes the digest from the memo and mounts nothing")
        #expect(second.target.layers == first.target.layers)

        // The context edit re-runs the builder (a new layer, same bytes at /out): hashed once
        // more, but the copy and the step after it are cache hits.
        try "v2".write(toFile: ctx + "/app.txt", atomically: true, encoding: .utf8)
        let third = try await e.build(BuildRequest(plan: plan(output: "same"), contextDirectory: ctx))
        #expect(w.commands == ["write out same", "touch after", "write out same"])
        #expect(w.views == 3, "the new source is hashed, not copied")
        #expect(third.target.layers == first.target.layers)

        // Other bytes at the copied path: the copy and what follows run again.
        let fourth = try await e.build(BuildRequest(plan: plan(output: "other"), contextDirectory: ctx))
        #expect(w.commands.suffix(2) == ["write out other", "touch after"])
        #expect(fourth.target.layers[0] != first.target.layers[0])
    }

    @Test("the memo key covers the source's layers and the selection, not the stage's name or key")
    func memoKey() {
        let a = Digest.sha256("layer-a"), b = Digest.sha256("layer-b")
        var op = CopyOp(isAdd: false, sources: ["/app/server"], dest: "/server", from: .stage(0))
        let k = SelectionDigest.memoKey(layers: [a, b], op: op)
        #expect(k == SelectionDigest.memoKey(layers: [a, b], op: CopyOp(isAdd: false, sources: ["/app/server"], dest: "/elsewhere", from: .stage(3))))
        #expect(k != SelectionDigest.memoKey(layers: [b, a], op: op))
        #expect(k != SelectionDigest.memoKey(layers: [a], op: op))
        op.excludes = ["*.debug"]
        #expect(k != SelectionDigest.memoKey(layers: [a, b], op: op))
        op.excludes = []
        op.parents = true
        #expect(k != SelectionDigest.memoKey(layers: [a, b], op: op))
    }
}
