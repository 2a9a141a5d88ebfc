import Testing
@testable import Dockerfile

@Suite struct SyntaxTests {
    func parse(_ s: String) throws -> ParsedDockerfile { try Dockerfile.parse(s) }

    @Test func directivesAndBacktickEscape() throws {
        let p = try parse("# syntax=docker/dockerfile:1\n# ESCAPE = `\n# check=skip=all\nFROM a\nRUN echo \\ `\n  b\n")
        #expect(p.syntax == "docker/dockerfile:1")
        #expect(p.check == "skip=all")
        #expect(p.escapeToken == "`")
        #expect(p.nodes.count == 2)
        #expect(p.nodes[1].values == ["echo \\   b"])
        #expect(p.nodes[1].startLine == 5 && p.nodes[1].endLine == 6)
    }

    @Test func directiveOnlyAtTop() throws {
        let p = try parse("FROM a\n# escape=`\nRUN a \\\n b\n")
        #expect(p.escapeToken == "\\")
        #expect(p.nodes[1].values == ["a  b"])
    }

    @Test func badAndDuplicateEscapeRejected() {
        #expect(throws: DockerfileError.self) { try parse("# escape=x\nFROM a\n") }
        #expect(throws: DockerfileError.self) { try parse("# escape=`\n# escape=`\nFROM a\n") }
    }

    @Test func bomAndCRLF() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("FROM a\r\nRUN x \\\r\n  y\r\n".utf8)
        let p = try Dockerfile.parse(bytes: bytes)
        #expect(p.nodes.map(\.keyword) == ["FROM", "RUN"])
        #expect(p.nodes[1].values == ["x   y"])
        #expect(p.nodes[1].endLine == 3)
    }

    @Test func continuationEdgeCases() throws {
        // whitespace after the escape, comments and blank lines inside, escaped escape, EOF.
        let p = try parse("FROM a\nRUN a \\  \n# comment\n\n  b\nRUN c \\\\\nRUN d \\")
        #expect(p.nodes[1].values == ["a   b"])
        #expect(p.nodes[1].startLine == 2 && p.nodes[1].endLine == 5)
        #expect(p.warnings.count == 1)
        #expect(p.nodes[2].values == ["c \\\\"])
        #expect(p.nodes[3].values == ["d"])
    }

    @Test func caseInsensitiveKeywordsAndFlags() throws {
        let p = try parse("from a AS b\ncopy --from=\"b\" --chown='1:2' x y\nRun --mount=type=cache,target=/c make\n")
        #expect(p.nodes[0].command == "from")
        #expect(p.nodes[1].flags == ["--from=b", "--chown=1:2"])
        #expect(p.nodes[2].flags == ["--mount=type=cache,target=/c"])
        #expect(p.nodes[2].values == ["make"])
    }

    @Test func jsonAndShellForms() throws {
        let p = try parse("FROM a\nCMD [\"a\", \"b\"]\nCMD [\"a\" \nENTRYPOINT [ 'a' ]\nRUN [\"x\"] trailing\nCOPY [\"a b\", \"/c\"]\nVOLUME /a /b\n")
        #expect(p.nodes[1].isJSON && p.nodes[1].values == ["a", "b"])
        #expect(!p.nodes[2].isJSON && p.nodes[2].values == ["[\"a\""])
        #expect(!p.nodes[3].isJSON)
        // Current BuildKit: text after the array means shell form; BuildKit <= v0.14 ignored it.
        #expect(!p.nodes[4].isJSON && p.nodes[4].values == ["[\"x\"] trailing"])
        let old = try Dockerfile.parse("FROM a\nRUN [\"x\"] trailing\n", rules: .v0_12)
        #expect(old.nodes[1].isJSON && old.nodes[1].values == ["x"])
        #expect(p.nodes[5].isJSON && p.nodes[5].values == ["a b", "/c"])
        #expect(p.nodes[6].values == ["/a", "/b"])
        #expect(throws: DockerfileError.self) { try parse("FROM a\nCMD [1, \"a\"]\n") }
    }

    @Test func envLabelForms() throws {
        let p = try parse("FROM a\nENV A 1 2  3\nENV B=\"x y\" C=z\\ w\nLABEL a.b=c\n")
        #expect(p.nodes[1].arguments == ["A", "1 2  3"])
        #expect(p.nodes[1].keyValuePairs.first?.legacy == true)
        #expect(p.nodes[2].arguments == ["B", "\"x y\"", "C", "z\\ w"])
        #expect(p.nodes[3].arguments == ["a.b", "c"])
        #expect(throws: DockerfileError.self) { try parse("FROM a\nENV A\n") }
        #expect(throws: DockerfileError.self) { try parse("FROM a\nENV A=1 B\n") }
    }

    @Test func onbuild() throws {
        let p = try parse("FROM a\nONBUILD RUN [\"echo\", \"x\"]\nONBUILD copy --from=b . /\n")
        #expect(p.nodes[1].trigger?.keyword == "RUN")
        #expect(p.nodes[1].arguments == ["echo", "x"])
        #expect(p.nodes[1].dump() == "onbuild (run \"echo\" \"x\")")
        #expect(p.nodes[2].trigger?.flags == ["--from=b"])
    }

    @Test func heredocs() throws {
        let text = "FROM a\nRUN <<EOF\necho 1\nEOF\nCOPY <<a.txt 3<<-\"b.txt\" /dst/\nA $X\na.txt\n\tB\n\tb.txt\nRUN <<'Q' bash\n$HOME\nQ\n"
        let p = try parse(text)
        let run = p.nodes[1]
        #expect(run.values == ["<<EOF"])
        #expect(run.heredocs == [Heredoc(name: "EOF", content: "echo 1\n")])
        #expect(run.endLine == 4)
        let copy = p.nodes[2]
        #expect(copy.values == ["<<a.txt", "3<<-\"b.txt\"", "/dst/"])
        #expect(copy.heredocs.count == 2)
        #expect(copy.heredocs[0] == Heredoc(name: "a.txt", content: "A $X\n"))
        #expect(copy.heredocs[1].name == "b.txt" && copy.heredocs[1].fileDescriptor == 3)
        #expect(copy.heredocs[1].chomp && !copy.heredocs[1].expand)
        #expect(copy.heredocs[1].content == "\tB\n")
        #expect(copy.heredocs[1].effectiveContent == "B\n")
        #expect(p.nodes[3].heredocs.first?.expand == false)
        #expect(throws: DockerfileError.self) { try parse("FROM a\nRUN <<EOF\nno end\n") }
        // JSON form never has heredocs
        #expect(try parse("FROM a\nRUN [\"<<EOF\"]\n").nodes[1].heredocs.isEmpty)
    }

    @Test func emptyAndCommentOnlyRejected() {
        #expect(throws: DockerfileError.self) { try parse("") }
        #expect(throws: DockerfileError.self) { try parse("# just a comment\n\n") }
    }

    @Test func longLineRejected() {
        let long = "FROM a\nLABEL x=" + String(repeating: "a", count: 70000) + "\n"
        #expect(throws: DockerfileError.self) { try parse(long) }
    }

    @Test func errorsNameFileAndLine() {
        do {
            _ = try Dockerfile.parse("FROM a\n\nENV A\n", fileName: "app.Dockerfile")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 3)
            #expect(error.description == "app.Dockerfile:3: ENV: ENV must have two arguments")
        }
    }

    @Test func unknownInstructionKeptInSyntaxTree() throws {
        let p = try parse("FROM a\nFOO bar\n")
        #expect(p.nodes[1].isUnknown)
        #expect(p.nodes[1].dump() == "foo \"\"")
    }

    @Test func syntaxStagesAndReferences() throws {
        let p = try parse("""
        ARG V=1
        FROM --platform=$BUILDPLATFORM golang:${V} AS Build
        RUN --mount=type=cache,target=/c --mount=type=bind,from=tools,target=/t make
        FROM build
        COPY --from=0 /a /a
        COPY --from=build /b /b
        COPY --from=$IMG /c /c
        COPY --from=nginx /d /d
        COPY --from=9 /e /e
        ONBUILD COPY --from=build /f /f
        """)
        #expect(p.syntaxStages == [
            SyntaxStage(index: 0, name: "Build", base: "golang:${V}", platform: "$BUILDPLATFORM", instructionCount: 1, line: 2),
            SyntaxStage(index: 1, name: nil, base: "build", platform: nil, instructionCount: 6, line: 4),
        ])
        let refs = p.syntaxReferences.map { "\($0.kind.rawValue) \($0.stage) \($0.line) \($0.ref) \($0.targetKind.rawValue) \($0.target.map(String.init) ?? "-")" }
        #expect(refs == [
            "run_mount_from 0 3 tools image -",
            "from 1 4 build stage 0",
            "copy_from 1 5 0 index 0",
            "copy_from 1 6 build stage 0",
            "copy_from 1 7 $IMG variable -",
            "copy_from 1 8 nginx image -",
            "copy_from 1 9 9 index -",
        ])
    }

    @Test func v012RulesDifferWhereBuildKitChanged() throws {
        let text = "FROM a\nRUN cat << EOF > /x\nhello\nEOF\nRUN x=${y%.*} <<EOF\nbody\nEOF\n"
        let current = try Dockerfile.parse(text)
        #expect(current.nodes.map(\.command) == ["from", "run", "run"])
        #expect(current.nodes[1].heredocs.map(\.name) == ["EOF"])
        let old = try Dockerfile.parse(text, rules: .v0_12)
        #expect(old.nodes.map(\.command) == ["from", "run", "hello", "eof", "run", "body", "eof"])
    }
}
