import Foundation
import Testing
@testable import Dockerfile
import TestSupport

/// Random mutations of real Dockerfiles must never crash or hang the frontend (errors are fine).
@Suite struct FuzzTests {
    /// SplitMix64: deterministic, so a failure can be replayed.
    struct RNG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
    }

    static let builtinCorpus = [
        "# syntax=docker/dockerfile:1\nARG V=1\nFROM --platform=$BUILDPLATFORM golang:${V} AS build\nRUN --mount=type=cache,target=/c go build\nFROM scratch\nCOPY --from=build /app /app\n",
        "FROM alpine\nRUN <<EOF\necho hi\nEOF\nCOPY <<-\"a\" 3<<b /dst/\n\tx\n\ta\ny\nb\nENV A=1 B=\"x y\" C=z\\ w\nLABEL a b c\n",
        "# escape=`\nFROM x\nRUN a `\n  b\nHEALTHCHECK --interval=5s CMD [\"a\"]\nONBUILD RUN x\nCMD [\"a\", \"b\"]\n",
    ]

    static let fragments: [[UInt8]] = [
        "\\", "\n", "\r\n", "\"", "'", "[", "]", "$", "{", "}", "${", "<<", "<<-", "EOF", "#", "--", "=", " ", "\t",
        "`", "FROM ", "COPY --from=", "RUN ", "ONBUILD ", "ARG ", "ENV ", "${A:-", "${A/", "%%", "##", ",", "*",
        "[\"a\", 1]", "\u{00A0}", "é", "\u{2028}",
    ].map { Array($0.utf8) } + [[0xFF], [0xC2], [0x00], [0xEF, 0xBB, 0xBF]]

    func corpus() -> [[UInt8]] {
        var out = FuzzTests.builtinCorpus.map { Array($0.utf8) }
        if let root = Conformance.buildkit {
            for dir in ["parser/testfiles", "parser/testfiles-negative"] {
                for d in Conformance.directories(root.appendingPathComponent(dir)) {
                    if let data = try? Data(contentsOf: d.appendingPathComponent("Dockerfile")) { out.append(Array(data)) }
                }
            }
        }
        return out
    }

    func mutate(_ input: [UInt8], _ rng: inout RNG, _ corpus: [[UInt8]]) -> [UInt8] {
        var b = input
        for _ in 0..<(1 + rng.below(4)) {
            let pos = rng.below(b.count + 1)
            switch rng.below(5) {
            case 0:
                b.insert(contentsOf: FuzzTests.fragments[rng.below(FuzzTests.fragments.count)], at: pos)
            case 1:
                if !b.isEmpty { b.removeSubrange(pos..<min(b.count, pos + 1 + rng.below(8))) }
            case 2:
                if !b.isEmpty { b[min(pos, b.count - 1)] = UInt8(truncatingIfNeeded: rng.next()) }
            case 3:
                let other = corpus[rng.below(corpus.count)]
                if !other.isEmpty {
                    let s = rng.below(other.count)
                    b.insert(contentsOf: other[s..<min(other.count, s + rng.below(80))], at: pos)
                }
            default:
                if !b.isEmpty {
                    let s = rng.below(b.count)
                    let chunk = Array(b[s..<min(b.count, s + rng.below(40))])
                    b.insert(contentsOf: chunk, at: pos)
                }
            }
        }
        return b
    }

    /// The fuzz loops are seconds of CPU: they run off the cooperative pool so they do not hold
    /// one of its few threads (and stall every async test) meanwhile. The time limit guards
    /// against a hang only: on a loaded CI machine the loop takes over a minute.
    @Test(.timeLimit(.minutes(5))) func mutatedDockerfilesNeverCrash() async {
        let iterations = 10000
        let (parsed, resolved) = await offPool { self.fuzzParse(iterations: iterations) }
        print("fuzz: \(iterations) mutated Dockerfiles, \(parsed) parsed, \(resolved) resolved, no crash")
        #expect(parsed > 0)
    }

    func fuzzParse(iterations: Int) -> (parsed: Int, resolved: Int) {
        let corpus = corpus()
        var rng = RNG(state: 0x5EED)
        var parsed = 0, resolved = 0
        for _ in 0..<iterations {
            let input = mutate(corpus[rng.below(corpus.count)], &rng, corpus)
            guard let p = try? Dockerfile.parse(bytes: input) else { continue }
            parsed += 1
            _ = p.dump()
            _ = p.syntaxReferences
            guard let model = try? DockerfileModel(p) else { continue }
            if let g = try? StageGraph(model: model) {
                resolved += 1
                for n in g.stages where n.isUsed {
                    var scope = g.newScope(baseImageEnv: ["PATH=/bin"])
                    for step in n.stage.steps { _ = try? scope.expand(step) }
                }
            }
        }
        return (parsed, resolved)
    }

    @Test(.timeLimit(.minutes(5))) func randomWordsNeverCrashTheLexer() async {
        await offPool { Self.fuzzLexer() }
    }

    static func fuzzLexer() {
        var rng = RNG(state: 42)
        let env = Environment([("A", "x y"), ("B", ""), ("C", "a/b/c")])
        let alphabet: [String] = ["$", "{", "}", ":", "-", "+", "?", "#", "%", "/", "\\", "'", "\"", "A", "B", "C", "*", " ", "<", "x", "1", "@"]
        for _ in 0..<5000 {
            var w = ""
            for _ in 0..<rng.below(24) { w += alphabet[rng.below(alphabet.count)] }
            var lexer = ShellLexer(escape: rng.below(2) == 0 ? "\\" : "`")
            lexer.rawQuotes = rng.below(2) == 0
            lexer.skipUnsetEnv = rng.below(2) == 0
            _ = try? lexer.processWord(w, env: env)
            _ = try? lexer.processWords(w, env: env)
            _ = try? IgnoreMatcher(patterns: [w, "!" + w]).includes(w)
        }
    }
}

@Suite struct HostileInputTests {
    @Test func deepNestingIsAnErrorNotACrash() {
        let nested = String(repeating: "${a:-", count: 5000) + "x" + String(repeating: "}", count: 5000)
        #expect(throws: ExpansionError.self) { try ShellLexer().processWord(nested, env: Environment()) }
        let onbuilds = "FROM a\n" + String(repeating: "ONBUILD ", count: 5000) + "RUN x\n"
        #expect(throws: DockerfileError.self) { try Dockerfile.parse(onbuilds) }
        let json = "FROM a\nCMD " + String(repeating: "[", count: 20000) + "\n"
        #expect((try? Dockerfile.parse(json))?.nodes[1].isJSON == false)
        let stars = "${V#" + String(repeating: "*a", count: 200) + "b}"
        #expect((try? ShellLexer().processWord(stars, env: Environment([("V", String(repeating: "a", count: 3000))]))) != nil)
    }
}
