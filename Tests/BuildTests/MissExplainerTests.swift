import Build
import OCI
import Testing

/// The rules of `MissExplainer` on hand-made step records: the most specific change is named.
@Suite struct MissExplainerTests {
    func inputs(_ key: CacheKey, instruction: String = "RUN make", base: String = "image b:1 sha256:" + String(repeating: "a", count: 64),
                args: [String] = [], files: SelectionListing? = nil) -> StepInputs {
        StepInputs(key: key, instruction: instruction, line: 3, base: base, args: args, files: files)
    }

    func run(parent: String = "p", env: [String] = [], mounts: [[String]] = []) -> CacheKey {
        .run(parent: .scratch(platform: parent), layers: [], argv: ["/bin/sh", "-c", "make"], env: env, user: "", workdir: "/",
             network: "default", security: "sandbox", script: nil, mounts: mounts, hostCABundle: false,
             platform: "linux/amd64")
    }

    @Test func noCacheAndFirstRun() {
        let a = inputs(run())
        #expect(MissExplainer.reason(a, previous: a, .init(noCache: true)) == "--no-cache")
        #expect(MissExplainer.reason(a, previous: nil, .init()) == "no earlier record of this step")
        #expect(MissExplainer.reason(a, previous: a, .init()) == "no usable cache record (pruned, or its layer was removed)")
    }

    @Test func instructionTextAndEnvironment() {
        let old = inputs(run(env: ["PATH=/bin", "MODE=dev"]), args: ["MODE"])
        #expect(MissExplainer.reason(inputs(run(env: ["PATH=/bin", "MODE=dev"]), instruction: "RUN make all"), previous: old, .init())
                == "instruction changed at line 3 (was: RUN make)")
        #expect(MissExplainer.reason(inputs(run(env: ["PATH=/bin", "MODE=prod"]), args: ["MODE"]), previous: old, .init())
                == "build arg MODE changed (dev → prod)")
        #expect(MissExplainer.reason(inputs(run(env: ["PATH=/usr/bin", "MODE=dev"]), args: ["MODE"]), previous: old, .init())
                == "ENV PATH changed (/bin → /usr/bin)")
        #expect(MissExplainer.reason(inputs(run(env: ["PATH=/bin"])), previous: old, .init()) == "build arg MODE removed (was dev)")
    }

    @Test func parentAndBase() {
        let old = inputs(run(parent: "a"))
        #expect(MissExplainer.reason(inputs(run(parent: "b")), previous: old, .init(parentRanAs: 4)) == "parent step #4 missed")
        let newBase = inputs(run(parent: "b"), base: "image b:1 sha256:" + String(repeating: "b", count: 64))
        #expect(MissExplainer.reason(newBase, previous: old, .init()) == "base image b:1 now sha256:bbbbbbbbbbbb…, was sha256:aaaaaaaaaaaa…")
        #expect(MissExplainer.reason(inputs(run(parent: "b")), previous: old, .init()) == "an earlier instruction of the stage changed")
    }

    @Test func mountsAndSecrets() {
        let old = inputs(run(mounts: [["type=cache", "target=/c", "id=x"]]))
        let secret = inputs(run(mounts: [["type=cache", "target=/c", "id=x"], ["type=secret", "target=/run/secrets/tok", "id=tok"]]))
        #expect(MissExplainer.reason(secret, previous: old, .init()).hasPrefix("secret mount added (type=secret,target=/run/secrets/tok,id=tok)"))
        let changed = inputs(run(mounts: [["type=cache", "target=/c", "id=y"]]))
        #expect(MissExplainer.reason(changed, previous: old, .init()) == "cache mount options changed (type=cache,target=/c,id=x → type=cache,target=/c,id=y)")
    }

    @Test func selectedFiles() {
        func listing(_ entries: [(String, String, Int64)]) -> SelectionListing {
            var l = SelectionListing()
            for e in entries { l.add(SelectionListing.Entry(path: e.0, identity: e.1, size: e.2)) }
            return l
        }
        let old = listing([("package.json", "a", 100), ("package-lock.json", "b", 1200)])
        #expect(MissExplainer.filesChange(old: old, new: listing([("package.json", "a", 100), ("package-lock.json", "c", 1214)]), oldIgnore: nil, newIgnore: nil)
                == "package-lock.json changed (2 files in the selection, 1 changed: 1,200 → 1,214 bytes)")
        #expect(MissExplainer.filesChange(old: old, new: listing([("package.json", "a", 100)]), oldIgnore: nil, newIgnore: nil)
                == "package-lock.json removed (1 file in the selection, 1 removed)")
        #expect(MissExplainer.filesChange(old: nil, new: old, oldIgnore: nil, newIgnore: nil) == "the selected files in the source changed")
    }
}
