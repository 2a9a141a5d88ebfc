import Testing
@testable import Dockerfile

@Suite struct InstructionTests {
    func model(_ s: String) throws(DockerfileError) -> DockerfileModel { try DockerfileModel.load(s, fileName: "Dockerfile") }

    func error(_ s: String) -> DockerfileError? {
        do {
            _ = try model(s)
            return nil
        } catch {
            return error
        }
    }

    @Test func typedInstructions() throws {
        let m = try model("""
        ARG BASE=alpine
        FROM $BASE AS Build
        RUN --mount=type=cache,target=/root/.cache,sharing=locked --network=none make
        CMD ["run", "--fast"]
        ENTRYPOINT exec app
        COPY --from=build --chown=1:1 --chmod=0755 --link a b /dst/
        ADD --checksum=sha256:abc https://x/y.tgz /opt/
        ENV A=1 B="2 3"
        EXPOSE 80/tcp 53/udp 8000-8010
        HEALTHCHECK --interval=30s --timeout=1.5s --retries=3 CMD curl -f localhost
        SHELL ["/bin/bash", "-c"]
        ONBUILD RUN echo hi
        USER app
        WORKDIR /w
        VOLUME ["/data"]
        STOPSIGNAL SIGTERM
        """)
        #expect(m.globalArgs.count == 1)
        let s = m.stages[0]
        #expect(s.name == "build")
        #expect(s.from == From(base: "$BASE", name: "build", platform: nil))
        guard case .run(let run) = s.steps[0].instruction else { Issue.record("not RUN"); return }
        #expect(run.network == "none")
        #expect(run.mounts.first?.type == .cache)
        #expect(run.mounts.first?.target == "/root/.cache")
        #expect(run.mounts.first?.sharing == .locked)
        #expect(run.mounts.first?.readOnly == false)
        #expect(run.command == .shell("make"))
        #expect(s.steps[1].instruction == .cmd(.exec(["run", "--fast"])))
        #expect(s.steps[2].instruction == .entrypoint(.shell("exec app")))
        guard case .copy(let copy) = s.steps[3].instruction else { Issue.record("not COPY"); return }
        #expect(copy.from == "build" && copy.chown == "1:1" && copy.chmod == "0755" && copy.link)
        #expect(copy.sources == ["a", "b"] && copy.destination == "/dst/")
        guard case .add(let add) = s.steps[4].instruction else { Issue.record("not ADD"); return }
        #expect(add.checksum == "sha256:abc")
        #expect(s.steps[5].instruction == .env([KeyValue(key: "A", value: "1"), KeyValue(key: "B", value: "\"2 3\"")]))
        #expect(s.steps[6].instruction == .expose(["80/tcp", "53/udp", "8000-8010"]))
        guard case .healthcheck(let h) = s.steps[7].instruction else { Issue.record("not HEALTHCHECK"); return }
        #expect(h.intervalNanoseconds == 30_000_000_000 && h.timeoutNanoseconds == 1_500_000_000 && h.retries == 3)
        #expect(h.configTest == ["CMD-SHELL", "curl -f localhost"])
        #expect(s.steps[8].instruction == .shell(["/bin/bash", "-c"]))
        guard case .onbuild(let ob) = s.steps[9].instruction else { Issue.record("not ONBUILD"); return }
        #expect(ob.expression == "RUN echo hi")
        #expect(s.steps[13].instruction == .stopSignal("SIGTERM"))
        #expect(s.steps[12].instruction == .volume(["/data"]))
    }

    @Test func flagErrorsNameLineInstructionAndProblem() throws {
        let cases: [(String, String)] = [
            ("FROM a\nCOPY --fromm=x a b\n", "Dockerfile:2: COPY: unknown flag: --fromm (did you mean --from?)"),
            ("FROM a\nCOPY --chown a b\n", "Dockerfile:2: COPY: missing a value on flag: --chown"),
            ("FROM a\nCOPY --link=maybe a b\n", "Dockerfile:2: COPY: expecting boolean value for flag --link, not: maybe"),
            ("FROM a\nCOPY --from=a --from=b x y\n", "Dockerfile:2: COPY: duplicate flag specified: --from"),
            ("FROM a\nCOPY onlyone\n", "Dockerfile:2: COPY: COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
            ("FROM a\nWORKDIR\n", "Dockerfile:2: WORKDIR: WORKDIR requires exactly one argument"),
            ("FROM a\nHEALTHCHECK --interval=5 CMD x\n", "Dockerfile:2: HEALTHCHECK: time: invalid duration \"5\" for --interval"),
            ("FROM a\nHEALTHCHECK --timeout=10us CMD x\n", "Dockerfile:2: HEALTHCHECK: Interval \"timeout\" cannot be less than 1ms"),
            ("FROM a\nHEALTHCHECK --retries=-1 CMD x\n", "Dockerfile:2: HEALTHCHECK: --retries cannot be negative (-1)"),
            ("FROM a\nEXPOSE 99999\n", "Dockerfile:2: EXPOSE: invalid containerPort: 99999 (value out of range (0–65535))"),
            ("FROM a\nEXPOSE 80/xyz\n", "Dockerfile:2: EXPOSE: invalid port: \"80/xyz\": invalid proto: xyz"),
            ("FROM a\nCOPY --chmod=999 a b\n", "Dockerfile:2: COPY: invalid chmod parameter: '999'. it should be octal string and between 0 and 07777"),
            ("FROM a\nCOPY --chmod=17777 a b\n", "Dockerfile:2: COPY: invalid chmod parameter: '17777'. it should be octal string and between 0 and 07777"),
            ("FROM a\nRUN\n", "Dockerfile:2: RUN: RUN requires a command"),
            ("FROM a\nRUN []\n", "Dockerfile:2: RUN: RUN requires a command"),
            ("FROM a\nRUN --network=bridge x\n", "Dockerfile:2: RUN: invalid network mode \"bridge\""),
            ("FROM a\nRUN --mount=type=nfs x\n", "Dockerfile:2: RUN: unsupported mount type \"nfs\""),
            ("FROM a\nRUN --mount=type=bind,mode=0700 x\n", "Dockerfile:2: RUN: mode not allowed for \"bind\" type mounts"),
            ("FROM a\nFROM b c\n", "Dockerfile:2: FROM: FROM requires either one or three arguments"),
            ("FROM a AS 1x\n", "Dockerfile:1: FROM: invalid name for build stage: \"1x\", name can't start with a number or contain symbols"),
            ("FROM a\nSHELL bash -c\n", "Dockerfile:2: SHELL: SHELL requires the arguments to be in JSON form, e.g. SHELL [\"/bin/bash\", \"-c\"]"),
            ("FROM a\nONBUILD ONBUILD RUN x\n", "Dockerfile:2: ONBUILD: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
            ("FROM a\nONBUILD FROM b\n", "Dockerfile:2: ONBUILD: FROM isn't allowed as an ONBUILD trigger"),
            ("FROM a\nRUNN x\n", "Dockerfile:2: RUNN: unknown instruction: RUNN (did you mean RUN?)"),
            ("RUN x\nFROM a\n", "Dockerfile:1: RUN: no build stage in current context: only ARG may come before the first FROM"),
            ("FROM a\nADD --checksum=sha256:x a b /d/\n", "Dockerfile:2: ADD: checksum can't be specified for multiple sources"),
            ("FROM a\nADD --checksum=sha256:x a /d/\n", "Dockerfile:2: ADD: checksum requires HTTP(S) or Git sources"),
            ("FROM a\nUSER --x=1 me\n", "Dockerfile:2: USER: unknown flag: --x (this instruction takes no flags)"),
        ]
        for (text, expected) in cases {
            #expect(error(text)?.description == expected, "\(text)")
        }
    }

    @Test func copyFromVariableRejectedLikeBuildKit() {
        let e = error("ARG S=build\nFROM a AS build\nFROM b\nCOPY --from=$S /x /y\n")
        #expect(e?.line == 4)
        #expect(e?.message == "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround")
        #expect(error("FROM a\nCOPY --from=${S} /x /y\n") != nil)
        // RUN --mount from with a variable is rejected too.
        #expect(error("FROM a\nRUN --mount=from=$S,target=/x y\n")?.message == "'from' doesn't support variable expansion, define alias stage instead")
    }

    @Test func heredocSources() throws {
        let m = try model("FROM a\nCOPY <<EOF <<-\"raw\" /dst/\nhello $X\nEOF\n\tlit $Y\n\traw\n")
        guard case .copy(let c) = m.stages[0].steps[0].instruction else { Issue.record("not COPY"); return }
        #expect(c.sources.isEmpty)
        #expect(c.heredocSources == [HeredocSource(path: "EOF", data: "hello $X\n", expand: true),
                                     HeredocSource(path: "raw", data: "lit $Y\n", expand: false)])
        #expect(error("FROM a\nCOPY x <<EOF\nEOF\n")?.message == "COPY cannot accept a heredoc as a destination")
    }

    @Test func argDefinitions() throws {
        let m = try model("# V the version\nARG V=1 W\nFROM a\n")
        guard case .arg(let defs) = m.globalArgs[0].instruction else { Issue.record("not ARG"); return }
        #expect(defs == [ArgDefinition(key: "V", defaultValue: "1", docComment: "the version"), ArgDefinition(key: "W")])
        #expect(error("FROM a\nARG =x\n")?.message == "ARG names can not be blank")
    }

    @Test func noStages() {
        #expect(error("ARG A=1\n")?.kind == .stage)
    }

    @Test func durations() {
        #expect(Validation.parseDuration("1h2m3.5s") == 3_723_500_000_000)
        #expect(Validation.parseDuration("0") == 0)
        #expect(Validation.parseDuration("10") == nil)
        #expect(Validation.parseDuration("1x") == nil)
        #expect(Validation.parseDuration("300ms") == 300_000_000)
    }

    @Test func mountParsing() throws {
        let m = try Mount.parse("type=secret,id=npmrc,target=/root/.npmrc,required", expand: { $0 })
        #expect(m.type == .secret && m.id == "npmrc" && m.required && m.readOnly)
        let t = try Mount.parse("type=tmpfs,target=/t,size=64m", expand: { $0 })
        #expect(t.sizeLimit == Int64(67_108_864))
        #expect(throws: MountError.self) { try Mount.parse("type=secret", expand: { $0 }) }
        #expect(throws: MountError.self) { try Mount.parse("type=bind,sharing=locked", expand: { $0 }) }
        #expect(Mount.fromField(of: "type=bind,from=build,source=/out,target=/in") == "build")
    }
}

@Suite struct RunProgramTests {
    func run(_ text: String) throws -> Run {
        let m = try DockerfileModel.load("FROM a\n" + text)
        guard case .run(let r) = m.stages[0].steps[0].instruction else { throw DockerfileError(.instruction, message: "not RUN") }
        return r
    }

    @Test func heredocPrograms() throws {
        #expect(try run("RUN [\"a\", \"b\"]\n").program == .exec(["a", "b"]))
        #expect(try run("RUN make all\n").program == .shell("make all"))
        #expect(try run("RUN <<-EOF\n\techo hi\nEOF\n").program == .shell("echo hi\n"))
        #expect(try run("RUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n").program == .script(name: "EOF", content: "#!/usr/bin/env python3\nprint(1)\n"))
        #expect(try run("RUN cat <<A > /x\nhello\nA\n").program == .shell("cat <<A > /x\nhello\nA"))
    }
}
