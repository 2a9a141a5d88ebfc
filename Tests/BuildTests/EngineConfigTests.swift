import Foundation
import Testing
import Dockerfile
@testable import Build

@Suite("Engine: image config state machine (BuildKit semantics)")
struct EngineConfigTests {
    @Test("scratch stage gets the default PATH and no other env")
    func scratchPath() {
        let m = StageConfigMachine(base: nil)
        #expect(m.image.config.env == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
        #expect(m.image.config.workingDir == "/")
        #expect(m.image.history.isEmpty)
    }

    @Test("a base with PATH keeps it; ONBUILD triggers are not inherited")
    func inheritsBase() {
        var base = StageImage()
        base.config.env = ["PATH=/opt/bin", "GOPATH=/go"]
        base.config.onBuild = ["RUN echo hi"]
        base.config.cmd = ["sh"]
        let m = StageConfigMachine(base: base)
        #expect(m.image.config.env == ["PATH=/opt/bin", "GOPATH=/go"])
        #expect(m.image.config.onBuild == nil)
        #expect(m.image.config.cmd == ["sh"])
    }

    @Test("ENV replaces in place, appends new keys, and writes BuildKit's history text")
    func env() {
        var m = StageConfigMachine(base: nil)
        m.env([("PATH", "/opt/venv/bin:/usr/bin"), ("A", "1")])
        #expect(m.image.config.env == ["PATH=/opt/venv/bin:/usr/bin", "A=1"])
        #expect(m.image.history.last == StageHistoryEntry(createdBy: "ENV PATH=/opt/venv/bin:/usr/bin A=1",
                                                     comment: "buildkit.dockerfile.v0", emptyLayer: true))
    }

    @Test("ENTRYPOINT clears an inherited CMD but not one set in the same stage")
    func entrypointResetsCmd() {
        var base = StageImage()
        base.config.cmd = ["bash"]
        var m = StageConfigMachine(base: base)
        m.entrypoint(["/server"], shellForm: false)
        #expect(m.image.config.cmd == nil)
        #expect(m.image.history.last?.createdBy == "ENTRYPOINT [\"/server\"]")

        var m2 = StageConfigMachine(base: base)
        m2.cmd(["node", "dist/index.js"], shellForm: false)
        m2.entrypoint(["tini", "--"], shellForm: false)
        #expect(m2.image.config.cmd == ["node", "dist/index.js"])
        #expect(m2.image.history[0].createdBy == "CMD [\"node\" \"dist/index.js\"]")
    }

    @Test("shell-form CMD uses SHELL")
    func shellForm() {
        var m = StageConfigMachine(base: nil)
        m.cmd(["echo", "$HOME"], shellForm: true)
        #expect(m.image.config.cmd == ["/bin/sh", "-c", "echo $HOME"])
        m.shell(["/bin/bash", "-eo", "pipefail", "-c"])
        #expect(m.image.history.last?.createdBy == "SHELL [/bin/bash -eo pipefail -c]")
        m.cmd(["x"], shellForm: true)
        #expect(m.image.config.cmd == ["/bin/bash", "-eo", "pipefail", "-c", "x"])
    }

    @Test("WORKDIR resolves relative paths against the previous one")
    func workdir() {
        var m = StageConfigMachine(base: nil)
        #expect(m.workdir("/app") == "/app")
        #expect(m.workdir("src/../cmd") == "/app/cmd")
        #expect(m.workdir("/") == "/")
        #expect(m.image.config.workingDir == "/")
    }

    @Test("EXPOSE normalises port specs, rejects bad ones")
    func expose() throws {
        var m = StageConfigMachine(base: nil)
        try m.expose(["8080", "53/udp", "9000-9001"])
        #expect(m.image.config.exposedPorts == ["8080/tcp", "53/udp", "9000/tcp", "9001/tcp"])
        #expect(m.image.history.last?.createdBy == "EXPOSE [8080/tcp 53/udp 9000/tcp 9001/tcp]")
        #expect(throws: ConfigError.invalidPort("http")) { try m.expose(["http"]) }
        #expect(throws: ConfigError.invalidSignal("SIGFOO")) { try m.stopSignal("SIGFOO") }
        try m.stopSignal("SIGTERM")
        #expect(m.image.config.stopSignal == "SIGTERM")
    }

    @Test("RUN history lists the stage's ARGs like BuildKit: |N K=V")
    func runHistory() {
        var m = StageConfigMachine(base: nil)
        #expect(m.runCreatedBy(["/bin/sh", "-c", "go build"], args: [], env: Environment()) == "RUN /bin/sh -c go build")
        m.arg([("VERSION", "1.2"), ("EMPTY", nil)])
        #expect(m.image.history.last?.createdBy == "ARG VERSION=1.2 EMPTY")
        let args: [(key: String, value: String?)] = [("VERSION", "1.2"), ("EMPTY", nil)]
        let env = Environment([("VERSION", "1.2")])
        #expect(m.runCreatedBy(["/bin/sh", "-c", "make"], args: args, env: env) == "RUN |2 VERSION=1.2 EMPTY= /bin/sh -c make")
        m.commitLayerStep(m.runCreatedBy(["/bin/sh", "-c", "make"], args: args, env: env), hasLayer: true)
        #expect(m.image.history.last?.createdBy == "RUN |2 VERSION=1.2 EMPTY= /bin/sh -c make # buildkit")
        #expect(m.image.history.last?.emptyLayer == false)
    }

    @Test("RUN's environment is the stage scope's: ENV and ARG in BuildKit's state order")
    func scopeOrder() throws {
        func runEnv(_ text: String) throws -> [String] {
            let graph = try StageGraph.resolve(text)
            var scope = graph.newScope(baseImageEnv: ["PATH=/bin"])
            for step in graph.stages[0].stage.steps { _ = try scope.expand(step) }
            return scope.environment.keyValueStrings
        }
        #expect(try runEnv("FROM scratch\nARG MODE=dev\nENV MODE=prod\n") == ["PATH=/bin", "MODE=prod"])
        // dockerfile2llb's dispatchArg adds the ARG to the state's env (AddEnv replaces).
        #expect(try runEnv("FROM scratch\nENV MODE=prod\nARG MODE=dev\n") == ["PATH=/bin", "MODE=dev"])
    }

    @Test("HEALTHCHECK history and NONE")
    func healthcheck() {
        var m = StageConfigMachine(base: nil)
        m.healthcheck(StageHealthcheck(test: ["CMD-SHELL", "curl -f localhost"], interval: 30_000_000_000,
                                  timeout: 3_000_000_000))
        #expect(m.image.history.last?.createdBy
                == "HEALTHCHECK {Test:[CMD-SHELL curl -f localhost] Interval:30s Timeout:3s StartPeriod:0s StartInterval:0s Retries:0}")
        m.healthcheck(nil)
        #expect(m.image.config.healthcheck?.test == ["NONE"])
    }

    @Test("COPY history text and Go duration formatting")
    func copyAndDurations() {
        #expect(StageConfigMachine.copyCreatedBy(add: false, sources: ["/app/server"], dest: "/server")
                == "COPY /app/server /server")
        // dockerfile2llb's order: --parents, --chown, --chmod; --link/--from/--exclude never.
        #expect(StageConfigMachine.copyCreatedBy(add: false, parents: true, chown: "1000:1000", chmod: "755",
                                                 sources: ["a/./b"], dest: "/d/")
                == "COPY --parents --chown=1000:1000 --chmod=755 a/./b /d/")
        #expect(StageConfigMachine.copyCreatedBy(add: true, parents: true, chown: "", sources: ["x.tar"], dest: "/")
                == "ADD x.tar /")
        let op = CopyStep(spec: CopySpec(sources: ["s"], destination: "/d", chown: "app", excludes: ["*.md"], link: true),
                          heredocs: [HeredocSource(name: "EOT", content: "hi")])
        #expect(StageConfigMachine.copyCreatedBy(op) == "COPY --chown=app s <<EOT /d")
        #expect(GoFormat.duration(90_000_000_000) == "1m30s")
        #expect(GoFormat.duration(1_500_000_000) == "1.5s")
        #expect(GoFormat.duration(3_600_000_000_000) == "1h0m0s")
        #expect(GoFormat.quote("a\"b") == "\"a\\\"b\"")
    }
}

@Suite("Engine: build flag parsing")
struct EngineFlagTests {
    @Test("--build-arg accepts NAME=VALUE and NAME (from env), rejects bad names")
    func buildArgs() throws {
        let args = try BuildFlags.buildArgs(["A=1", "B=", "FROM_ENV", "UNSET"], environment: ["FROM_ENV": "x"])
        #expect(args == ["A": "1", "B": "", "FROM_ENV": "x"])
        #expect(throws: BuildError.self) { try BuildFlags.buildArgs(["=x"]) }
        #expect(throws: BuildError.self) { try BuildFlags.buildArgs(["1X=2"]) }
        #expect(throws: BuildError.self) { try BuildFlags.buildArgs(["A B=2"]) }
    }

    @Test("--output parses docker's forms")
    func output() throws {
        #expect(try BuildFlags.output("type=oci,dest=/tmp/x.tar") == OutputSpec(type: .oci, dest: "/tmp/x.tar"))
        #expect(try BuildFlags.output("type=image") == OutputSpec(type: .image, dest: nil))
        #expect(try BuildFlags.output("out") == OutputSpec(type: .local, dest: "out"))
        #expect(throws: FlagError.self) { try BuildFlags.output("type=zip,dest=x") }
        #expect(throws: FlagError.self) { try BuildFlags.output("type=tar") }
        #expect(try BuildFlags.labels(["a=b=c"]) == ["a": "b=c"])
        #expect(throws: FlagError.self) { try BuildFlags.labels(["=x"]) }
    }
}
