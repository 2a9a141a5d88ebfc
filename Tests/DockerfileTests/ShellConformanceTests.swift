import Foundation
import Testing
@testable import Dockerfile
import TestSupport

@Suite(.requires(.buildkitConformance)) struct ShellConformanceTests {
    /// envVarTest: `A` lines apply to all platforms, `U` to Unix, `W` to Windows (skipped here).
    @Test func envVarTest() throws {
        let root = try Conformance.buildkitRoot()
        let text = try String(contentsOf: root.appendingPathComponent("shell/envVarTest"), encoding: .utf8)
        let env = Environment([("PWD", "/home"), ("SHELL", "bash"), ("KOREAN", "한국어"), ("NULL", "")])
        let lexer = ShellLexer(escape: "\\")
        var total = 0, passed = 0
        for (n, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if rawLine.hasPrefix("#") { continue }
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let parts = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 3 else { Issue.record("bad line \(n + 1)"); continue }
            guard parts[0] == "A" || parts[0] == "U" else { continue }
            total += 1
            let result = Result { try lexer.processWord(parts[1], env: env) }
            switch result {
            case .success(let got) where parts[2] != "error" && got == parts[2]: passed += 1
            case .failure where parts[2] == "error": passed += 1
            default: print("envVarTest line \(n + 1): \(parts[1]) expected \(parts[2]) got \(result)")
            }
        }
        print("buildkit envVarTest (A+U): \(passed)/\(total)")
        #expect(total > 200)
        #expect(passed == total)
    }

    @Test func wordsTest() throws {
        let root = try Conformance.buildkitRoot()
        let text = try String(contentsOf: root.appendingPathComponent("shell/wordsTest"), encoding: .utf8)
        var env = Environment()
        let lexer = ShellLexer(escape: "\\")
        var total = 0, passed = 0
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix("#") || line.isEmpty { continue }
            if line.hasPrefix("ENV ") {
                let kv = line.dropFirst(3).drop { $0 == " " }
                let key = kv.prefix { $0 != "=" }
                env[String(key)] = String(kv.dropFirst(key.count + 1))
                continue
            }
            let parts = line.split(separator: "|", omittingEmptySubsequences: false)
            guard parts.count == 2 else { Issue.record("bad line \(n + 1)"); continue }
            total += 1
            let source = parts[0].trimmingCharacters(in: .whitespaces)
            let expected = String(parts[1].drop { $0 == " " }).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let got = (try? lexer.processWords(source, env: env)) ?? ["error"]
            if got == expected { passed += 1 } else { print("wordsTest line \(n + 1): \(source) expected \(expected) got \(got)") }
        }
        print("buildkit wordsTest: \(passed)/\(total)")
        #expect(total > 20)
        #expect(passed == total)
    }
}
