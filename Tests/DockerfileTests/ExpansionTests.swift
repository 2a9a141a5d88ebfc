import Testing
@testable import Dockerfile

@Suite struct ExpansionTests {
    let env = Environment([("V", "a/b/c.tar.gz"), ("EMPTY", ""), ("NAME", "world")])
    let lexer = ShellLexer()

    @Test(arguments: [
        ("$NAME", "world"), ("${NAME}", "world"), ("${UNSET:-def}", "def"), ("${EMPTY:-def}", "def"),
        ("${EMPTY-def}", ""), ("${UNSET-def}", "def"), ("${NAME:+alt}", "alt"), ("${EMPTY:+alt}", ""),
        ("${EMPTY+alt}", "alt"), ("${UNSET+alt}", ""), ("${V#*/}", "b/c.tar.gz"), ("${V##*/}", "c.tar.gz"),
        ("${V%.*}", "a/b/c.tar"), ("${V%%.*}", "a/b/c"), ("${V/\\//-}", "a-b/c.tar.gz"), ("${V//\\//-}", "a-b-c.tar.gz"),
        ("${V/#a/X}", "a/b/c.tar.gz"), ("'$NAME'", "$NAME"), ("\"$NAME x\"", "world x"), ("\\$NAME", "$NAME"),
        ("${V//?/_}", "____________"), ("${NAME:?}", "world"),
    ])
    func forms(_ input: String, _ expected: String) throws {
        #expect(try lexer.processWord(input, env: env) == expected)
    }

    @Test func errors() {
        #expect(throws: ExpansionError.self) { try lexer.processWord("${UNSET:?must be set}", env: env) }
        #expect(throws: ExpansionError.self) { try lexer.processWord("${EMPTY:?}", env: env) }
        #expect(throws: ExpansionError.self) { try lexer.processWord("${NAME", env: env) }
        #expect(throws: ExpansionError.self) { try lexer.processWord("\"open", env: env) }
        do {
            _ = try lexer.processWord("${UNSET?needs a value}", env: env)
        } catch {
            #expect(error.message.contains("UNSET: needs a value"))
        }
    }

    @Test func wordSplitting() throws {
        let e = Environment([("PORTS", "80  443")])
        #expect(try lexer.processWords("$PORTS \"8080 9090\"", env: e) == ["80", "443", "8080 9090"])
    }

    @Test func matchedAndUnmatched() throws {
        let r = try lexer.process("$NAME ${MISSING:-x}", env: env)
        #expect(r.matched == ["NAME"] && r.unmatched == ["MISSING"])
    }

    @Test func backtickEscape() throws {
        let l = ShellLexer(escape: "`")
        #expect(try l.processWord("a`$NAME\\b", env: env) == "a$NAME\\b")
    }

    @Test func stageScopeFollowsBuildKit() throws {
        let m = try DockerfileModel.load("""
        ARG GLOBAL=g
        FROM a
        ENV A=1 B=$A
        ENV A=2 C=${A}
        LABEL l="$A $GLOBAL"
        ARG GLOBAL
        ARG LOCAL=${GLOBAL}-x
        RUN echo $A
        COPY --chown=$A:$A src-$LOCAL /dst/$A/
        COPY <<EOF <<'RAW' /x/
        v=$A "q"
        EOF
        v=$A
        RAW
        EXPOSE $P 22
        WORKDIR /w/$LOCAL
        RUN --mount=type=cache,target=/c/$A true
        """)
        var global = Environment()
        global["GLOBAL"] = "g"
        var scope = StageScope(lexer: m.parsed.lexer, baseImageEnv: ["PATH=/bin", "P=80 443"], globalArgs: global, buildArgs: [:])
        var out: [Instruction] = []
        for step in m.stages[0].steps { out.append(try scope.expand(step)) }
        #expect(out[0] == .env([KeyValue(key: "A", value: "1"), KeyValue(key: "B", value: "")]))
        #expect(out[1] == .env([KeyValue(key: "A", value: "2"), KeyValue(key: "C", value: "1")]))
        // GLOBAL is not visible before `ARG GLOBAL` inside the stage.
        #expect(out[2] == .label([KeyValue(key: "l", value: "2 ")]))
        #expect(out[4] == .arg([ArgDefinition(key: "LOCAL", defaultValue: "g-x")]))
        // Shell-form RUN is left to the shell.
        #expect(out[5] == m.stages[0].steps[5].instruction)
        guard case .copy(let c) = out[6] else { Issue.record("not COPY"); return }
        #expect(c.chown == "2:2" && c.sources == ["src-g-x"] && c.destination == "/dst/2/")
        guard case .copy(let h) = out[7] else { Issue.record("not COPY"); return }
        #expect(h.heredocSources.map(\.data) == ["v=2 \"q\"\n", "v=$A\n"])
        #expect(out[8] == .expose(["80", "443", "22"]))
        #expect(out[9] == .workdir("/w/g-x"))
        guard case .run(let r) = out[10] else { Issue.record("not RUN"); return }
        #expect(r.mounts.first?.target == "/c/2")
        #expect(scope.imageEnvironment.keyValueStrings == ["PATH=/bin", "P=80 443", "A=2", "B=", "C=1"])
        #expect(scope.environment.lookup("LOCAL") == "g-x")
        #expect(scope.args.map(\.key) == ["GLOBAL", "LOCAL"])
    }

    @Test func buildArgOverridesArgDefault() throws {
        let m = try DockerfileModel.load("FROM a\nARG V=default\nRUN x\n")
        var scope = StageScope(buildArgs: ["V": "override"])
        let out = try scope.expand(m.stages[0].steps[0])
        #expect(out == .arg([ArgDefinition(key: "V", defaultValue: "override")]))
    }

    @Test func expansionErrorCarriesLocation() throws {
        let m = try DockerfileModel.load("FROM a\n\nWORKDIR ${X:?X is required}\n", fileName: "df")
        var scope = StageScope()
        do {
            _ = try scope.expand(m.stages[0].steps[0], file: "df")
            Issue.record("expected error")
        } catch {
            #expect(error.line == 3 && error.instruction == "WORKDIR" && error.kind == .expansion)
            #expect(error.description.hasPrefix("df:3: WORKDIR: "))
        }
    }

    @Test func childStageInheritsParentVariables() throws {
        let m = try DockerfileModel.load("FROM alpine AS base\nARG V=1\nENV E=$V\nFROM base\nARG W=$V-$E\n")
        let g = try StageGraph(model: m)
        #expect(g.stages[1].args.first?.value == "1-1")
        var parent = g.newScope(baseImageEnv: [])
        for step in m.stages[0].steps { _ = try parent.expand(step) }
        var child = parent.inherited()
        #expect(try child.expand(m.stages[1].steps[0]) == .arg([ArgDefinition(key: "W", defaultValue: "1-1")]))
    }
}
