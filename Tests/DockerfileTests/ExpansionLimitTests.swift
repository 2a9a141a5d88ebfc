import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import Dockerfile

/// Issue 18 #7: variable expansion is bounded (`ExpansionLimits`): one word ≤ 1 MiB, the
/// variables of one scope ≤ 8 MiB, all stages' variables ≤ 64 MiB. The doubling Dockerfile fails
/// in milliseconds with an error naming the file, the line and the limit.
@Suite struct ExpansionLimitTests {
    /// `ARG A0=xxxxxxxx`, then `ARG Ai=${A(i-1)}${A(i-1)}`: 8 · 2^22 bytes = 32 MiB at the end
    /// unbounded (and 2.1 GB of work in the issue's run).
    static func doubling(steps: Int = 22, prefix: String = "", keyword: String = "ARG") -> String {
        var lines = [prefix + "\(keyword) A0=xxxxxxxx"]
        for i in 1...steps { lines.append("\(keyword) A\(i)=${A\(i - 1)}${A\(i - 1)}") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// CPU seconds `body` takes on this thread (wall time on this shared 2-core machine says
    /// more about the other processes than about the code).
    static func seconds(_ body: () -> Void) -> Double {
        func now() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }
        let start = now()
        body()
        return now() - start
    }

    /// Global ARG lines `B0=xxxxxxxx` … `Bn` doubling: Bn holds 8 · 2^n bytes (lines stay short:
    /// the parser refuses lines over 64 KiB).
    static func big(_ n: Int, name: String = "B") -> [String] {
        ["ARG \(name)0=xxxxxxxx"] + (1...n).map { "ARG \(name)\($0)=${\(name)\($0 - 1)}${\(name)\($0 - 1)}" }
    }

    func limitError(_ text: String, fileName: String = "Dockerfile.big") -> DockerfileError? {
        do {
            _ = try StageGraph.resolve(text, fileName: fileName)
            return nil
        } catch {
            return error
        }
    }

    @Test("doubling global ARGs stop at the word limit, naming file, line and limit")
    func globalArgs() throws {
        var error: DockerfileError?
        let t = Self.seconds { error = limitError(Self.doubling() + "FROM scratch\n") }
        let e = try #require(error)
        #expect(e.kind == .limit)
        // A17 = 8 · 2^17 bytes is exactly 1 MiB; A18 (line 19) is the first value past it.
        #expect(e.line == 19, "\(e)")
        #expect(e.description.hasPrefix("Dockerfile.big:19: ARG: expanding \"${A17}${A17}\": "), "\(e)")
        #expect(e.description.contains("larger than 1 MiB (1048576 bytes), the limit for one expanded word"), "\(e)")
        #expect(t < 5, "took \(t) s of CPU")
    }

    @Test("doubling stage ARGs and ENVs stop too (the outline's and the engine's scope)",
          arguments: ["ARG", "ENV"])
    func stageVariables(keyword: String) throws {
        var error: DockerfileError?
        let t = Self.seconds { error = limitError(Self.doubling(prefix: "FROM scratch\n", keyword: keyword)) }
        let e = try #require(error)
        #expect(e.kind == .limit && e.line == 20 && e.instruction == keyword, "\(e)")
        #expect(e.message.contains("the limit for one expanded word"), "\(e)")
        #expect(t < 5, "took \(t) s of CPU")

        // The engine walks a stage with its own StageScope: the same limit applies there.
        let text = "FROM scratch\n" + (Self.big(16) + ["ARG C=${B16}${B16}${B16}"]).joined(separator: "\n") + "\n"
        let model = try DockerfileModel.load(text, fileName: "Dockerfile")
        var scope = StageScope()
        let steps = model.stages[0].steps
        for step in steps.dropLast() { _ = try scope.expand(step, file: "Dockerfile") }
        do {
            _ = try scope.expand(steps[steps.count - 1], file: "Dockerfile")
            Issue.record("expected the word limit")
        } catch {
            #expect(error.kind == .limit && error.line == 19, "\(error)")
        }
    }

    @Test("many large variables stop at the scope limit (8 MiB)")
    func scopeTotal() throws {
        // B16 = 512 KiB; the doubling itself holds ~1 MiB, each C another 512 KiB.
        let lines = Self.big(16) + (0..<20).map { "ARG C\($0)=${B16}" }
        let global = try #require(limitError(lines.joined(separator: "\n") + "\nFROM scratch\n"))
        // 1 MiB + 14 · 512 KiB = 8 MiB, plus the names: the 14th C (line 17 + 14) goes past it.
        #expect(global.kind == .limit && global.line == 31, "\(global)")
        #expect(global.message.contains("the global ARGs (before the first FROM) now hold") && global.message.contains("more than 8 MiB"), "\(global)")

        let stage = try #require(limitError("FROM scratch\n" + lines.joined(separator: "\n") + "\n"))
        #expect(stage.kind == .limit && stage.line == 32, "\(stage)")
        #expect(stage.message.contains("the variables of this stage"), "\(stage)")
    }

    @Test("stages that each stay under the scope limit still stop at the Dockerfile limit (64 MiB)")
    func dockerfileTotal() throws {
        // A global 1 MiB value; each stage takes it and copies it 6 times (7 MiB < 8 MiB).
        var lines = Self.big(17)
        for s in 0..<12 {
            lines.append("FROM scratch AS s\(s)")
            lines.append("ARG B17")
            for i in 0..<6 { lines.append("ARG C\(i)=${B17}") }
        }
        let e = try #require(limitError(lines.joined(separator: "\n") + "\n"))
        #expect(e.kind == .limit && e.message.contains("all stages together") && e.message.contains("64 MiB"), "\(e)")
    }

    @Test("a pattern replacement cannot multiply past the word limit")
    func replacement() throws {
        let env = Environment([("X", String(repeating: "a", count: 4096)), ("Y", String(repeating: "b", count: 4096))])
        do {
            _ = try ShellLexer().processWord("${X//?/$Y}", env: env)
            Issue.record("expected the limit")
        } catch {
            #expect(error.exceedsLimit && error.message.contains("1 MiB"), "\(error)")
        }
        // Just under the limit is fine.
        #expect(try ShellLexer().processWord("${X//a/bb}", env: env).utf8.count == 8192)
    }

    @Test("Environment tracks its size through replacements and removals")
    func environmentSize() {
        var env = Environment()
        env["AB"] = "xyz"
        #expect(env.byteCount == 5)
        env["AB"] = "x"
        #expect(env.byteCount == 3)
        env["C"] = ""
        #expect(env.byteCount == 4)
        env["AB"] = nil
        #expect(env.byteCount == 1)
    }
}
