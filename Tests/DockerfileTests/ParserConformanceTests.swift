import Foundation
import Testing
@testable import Dockerfile
import TestSupport

@Suite(.requires(.buildkitConformance)) struct ParserConformanceTests {
    @Test func buildkitParserCases() throws {
        let root = try Conformance.buildkitRoot()
        let dirs = Conformance.directories(root.appendingPathComponent("parser/testfiles"))
        var passed = 0
        var failures: [String] = []
        for dir in dirs {
            let data = try Data(contentsOf: dir.appendingPathComponent("Dockerfile"))
            let expected = try String(contentsOf: dir.appendingPathComponent("result"), encoding: .utf8)
            do {
                let parsed = try Dockerfile.parse(bytes: Array(data), fileName: dir.lastPathComponent)
                let got = parsed.dump() + "\n"
                if got == expected {
                    passed += 1
                } else {
                    failures.append("\(dir.lastPathComponent):\n--- expected\n\(expected)--- got\n\(got)")
                }
            } catch {
                failures.append("\(dir.lastPathComponent): error \(error)")
            }
        }
        print("buildkit parser cases: \(passed)/\(dirs.count)")
        for f in failures { print(f) }
        #expect(dirs.count == 33)
        #expect(passed == dirs.count)
    }

    @Test func buildkitNegativeCases() throws {
        let root = try Conformance.buildkitRoot()
        let dirs = Conformance.directories(root.appendingPathComponent("parser/testfiles-negative"))
        var rejected = 0
        for dir in dirs {
            let data = try Data(contentsOf: dir.appendingPathComponent("Dockerfile"))
            do {
                _ = try Dockerfile.parse(bytes: Array(data), fileName: dir.lastPathComponent)
                print("not rejected: \(dir.lastPathComponent)")
            } catch {
                rejected += 1
            }
        }
        print("buildkit negative parser cases rejected: \(rejected)/\(dirs.count)")
        #expect(dirs.count == 4)
        #expect(rejected == dirs.count)
    }

    @Test func buildkitLineNumbers() throws {
        let root = try Conformance.buildkitRoot()
        let data = try Data(contentsOf: root.appendingPathComponent("parser/testfile-line/Dockerfile"))
        let parsed = try Dockerfile.parse(bytes: Array(data))
        let lines = parsed.nodes.map { [$0.startLine, $0.endLine] }
        print("buildkit testfile-line: \(lines)")
        #expect(lines == [[5, 5], [11, 12], [17, 31]])
    }
}
