import Testing
@testable import Dockerfile

@Suite struct StageGraphTests {
    let text = """
    ARG GO_VERSION=1.22
    ARG BASE=alpine:3.20
    FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS Builder
    ARG TARGETARCH
    RUN echo $TARGETARCH
    FROM builder AS test
    RUN go test ./...
    FROM scratch AS assets
    COPY x /x
    FROM ${BASE} AS production
    ARG GO_VERSION
    COPY --from=BUILDER /app /app
    RUN --mount=type=bind,from=assets,target=/a cp -r /a /srv
    COPY --from=nginx:1.27 /etc/nginx /etc/nginx
    """

    @Test func stagesBasesAndDependencies() throws {
        let g = try StageGraph.resolve(text)
        #expect(g.stages.map(\.name) == ["builder", "test", "assets", "production"])
        #expect(g.stages[0].base == .image("golang:1.22"))
        #expect(g.stages[0].platform == Platform.host.description)
        #expect(g.stages[1].base == .stage(0))
        #expect(g.stages[2].base == .scratch)
        #expect(g.stages[3].base == .image("alpine:3.20"))
        #expect(g.stages[3].dependencies.map(\.kind) == [.copyFrom, .mountFrom, .copyFrom])
        #expect(g.stages[3].dependencies[2].target == .image("nginx:1.27"))
        #expect(g.stages[3].stageDependencies == [0, 2])
        #expect(g.target == 3)
        #expect(g.stages.map(\.isUsed) == [true, false, true, true])
        #expect(g.buildOrder == [[0, 2], [3]])
    }

    @Test func targetAndBuildArgs() throws {
        let g = try StageGraph.resolve(text, options: BuildOptions(target: "TEST", buildArgs: ["GO_VERSION": "1.23"]))
        #expect(g.target == 1)
        #expect(g.stages[0].base == .image("golang:1.23"))
        #expect(g.stages.map(\.isUsed) == [true, true, false, false])
        #expect(g.buildOrder == [[0], [1]])
        #expect(g.globalArgInfo.map(\.name) == ["GO_VERSION", "BASE"])
        #expect(g.globalArgInfo[0].value == "1.23" && g.globalArgInfo[0].overridden)
        #expect(g.globalArgs.lookup("TARGETSTAGE") == "test")
        // The stage-level ARG picks up the global value only after `ARG GO_VERSION`.
        #expect(g.stages[3].args.first?.value == "1.23")
        #expect(g.unusedBuildArgs.isEmpty)
        let u = try StageGraph.resolve(text, options: BuildOptions(buildArgs: ["NOPE": "1", "http_proxy": "x", "TARGETARCH": "arm64"]))
        #expect(u.unusedBuildArgs == ["NOPE"])
    }

    @Test func predefinedPlatformArgs() throws {
        let g = try StageGraph.resolve("FROM alpine\nARG TARGETOS TARGETARCH BUILDPLATFORM\n")
        let host = Platform.host
        #expect(g.globalArgs.lookup("TARGETPLATFORM") == host.description)
        #expect(g.globalArgs.lookup("BUILDARCH") == host.architecture)
        #expect(g.stages[0].args.map(\.value) == [host.os, host.architecture, host.description])
        let cross = try StageGraph.resolve("FROM --platform=$TARGETPLATFORM alpine\n",
                                           options: BuildOptions(targetPlatform: Platform(os: "linux", architecture: "arm64")))
        #expect(cross.stages[0].platform == "linux/arm64")
    }

    @Test func unknownTargetListsStages() {
        do {
            _ = try StageGraph.resolve(text, options: BuildOptions(target: "prod"))
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .target)
            #expect(error.message == "target stage \"prod\" could not be found; stages: builder, test, assets, production")
        }
    }

    @Test func forwardReferencesAndCyclesRejected() {
        // COPY --from a later stage, when that stage is needed.
        #expect(throws: DockerfileError.self) {
            try StageGraph.resolve("FROM a AS one\nCOPY --from=two /x /x\nFROM b AS two\nCOPY --from=one /y /y\n")
        }
        #expect(throws: DockerfileError.self) { try StageGraph.resolve("FROM a AS one\nCOPY --from=one /x /x\n") }
        #expect(throws: DockerfileError.self) { try StageGraph.resolve("FROM a AS one\nCOPY --from=1 /x /x\nFROM b\n", options: BuildOptions(target: "one")) }
        // FROM a stage defined later.
        #expect(throws: DockerfileError.self) {
            try StageGraph.resolve("FROM later AS first\nFROM alpine AS later\n", options: BuildOptions(target: "first"))
        }
        // ...but only when the target needs that stage (BuildKit would read it as an image name).
        #expect((try? StageGraph.resolve("FROM later AS first\nFROM alpine AS later\n"))?.stages[0].base == .image("later"))
        // Duplicate names: the last definition wins, as in BuildKit.
        let dup = try? StageGraph.resolve("FROM a AS x\nFROM b AS x\nFROM c\nCOPY --from=x / /\n")
        #expect(dup?.stages[2].stageDependencies == [1])
        // index out of range
        #expect(throws: DockerfileError.self) { try StageGraph.resolve("FROM a\nCOPY --from=5 /x /x\n") }
        // A forward reference in a stage the target does not need is fine (as in BuildKit).
        #expect(throws: Never.self) {
            try StageGraph.resolve("FROM a AS one\nCOPY --from=two /x /x\nFROM b AS two\n", options: BuildOptions(target: "two"))
        }
        // `FROM node AS node` names an image, not itself.
        #expect((try? StageGraph.resolve("FROM node AS node\n"))?.stages[0].base == .image("node"))
    }

    @Test func blankBaseRejected() {
        #expect(throws: DockerfileError.self) { try StageGraph.resolve("ARG B\nFROM $B\n") }
        #expect(throws: DockerfileError.self) { try StageGraph.resolve("FROM --platform=linux/amd64,linux/arm64 alpine\n") }
        #expect(Platform(parsing: "linux/arm/v7") == Platform(os: "linux", architecture: "arm", variant: "v7"))
        #expect(Platform(parsing: "aarch64") == Platform(os: "linux", architecture: "arm64"))
    }

    @Test func indexReferencesAndParallelGroups() throws {
        let g = try StageGraph.resolve("""
        FROM a
        FROM b
        FROM c
        COPY --from=0 / /
        COPY --from=1 / /
        FROM d
        COPY --from=2 / /
        """)
        #expect(g.buildOrder == [[0, 1], [2], [3]])
        #expect(g.stages[2].stageDependencies == [0, 1])
    }
}
