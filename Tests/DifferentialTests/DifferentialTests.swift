import Foundation
import Testing
import TestSupport

/// Slipway against BuildKit, the way buildah's conformance suite runs against docker: every
/// case under `Cases/` (and every article example under `Examples/`) is built by Slipway and by
/// dockerd 20.10's BuildKit 0.8 from the same context over the same base image bytes, and the
/// final file trees, image configs and histories must agree. The differences we accept are
/// listed once, with their reasons, in `IntendedDifferences.json`; anything else fails.
@Suite("Differential: Slipway against BuildKit",
       .enabled(if: Paths.missingPrerequisite == nil, Comment(rawValue: Paths.missingPrerequisite ?? "")),
       .differentialSession)
struct DifferentialTests {
    static let cases = CaseSpec.all(in: Paths.cases)
    static let examples = CaseSpec.all(in: Paths.examples)

    @Test("Dockerfile case", arguments: cases)
    func dockerfileCase(_ spec: CaseSpec) async throws {
        try await check(spec)
    }

    @Test("article example", arguments: examples)
    func articleExample(_ spec: CaseSpec) async throws {
        try await check(spec)
    }

    @Test("IntendedDifferences.json names existing cases; expected.json exactly where BuildKit 0.8 is listed as unable")
    func rulesAreConsistent() throws {
        let rules = try DifferenceRules.load(Paths.rules)
        let names = Set((Self.cases + Self.examples).map(\.name))
        for rule in rules.rules {
            for pattern in rule.cases where !pattern.contains("*") && !names.contains(pattern) {
                Issue.record("IntendedDifferences.json: rule for unknown case '\(pattern)': \(rule.reason)")
            }
            if rule.kind != .unsupportedByBuildKit08, rule.field == nil {
                Issue.record("IntendedDifferences.json: a \(rule.kind.rawValue) rule needs a field: \(rule.reason)")
            }
        }
        for spec in Self.cases + Self.examples where spec.hasExpectedOutput != rules.isUnsupportedByBuildKit08(spec.name) {
            Issue.record(spec.hasExpectedOutput
                ? "\(spec.name) has expected.json but IntendedDifferences.json does not list it as buildkit-0.8-unsupported"
                : "\(spec.name) is listed as buildkit-0.8-unsupported but has no expected.json")
        }
    }

    /// `slipway build --load` into this suite's private dockerd: the docker CLI on PATH (Debian's,
    /// `/usr/bin/docker`) talking to it through `DOCKER_HOST`, then `docker image inspect` finds the
    /// tag with Slipway's image ID. (Without a docker CLI: `BuildLoadTests` in IntegrationTests.)
    @Test("build --load hands the image to dockerd")
    func buildLoad() async throws {
        let session = try #require(DifferentialSession.current, "the differential session did not start")
        try await session.ensure(BaseImage.defaults[0])
        let context = try makeTemporaryDirectory(session.root + "/load-XXXXXX")
        try "FROM fixture/busybox:latest\nRUN echo loaded > /loaded\n".write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let daemon = session.docker
        let r = try await runProcess([Paths.slipway, "build", "--progress", "plain", "--load", "-t", "slipway-load:1",
                                      "--root", session.store, context],
                                     env: ["PATH": "/usr/bin:/bin", "DOCKER_HOST": daemon.socket, "DOCKER_CONFIG": daemon.dir + "/cli"])
        try #require(r.status == 0, "\(r.combined.suffix(3000))")
        #expect(r.stderr.contains("Loaded image: slipway-load:1"), "\(r.stderr.suffix(2000))")
        let id = try #require(r.stdout.range(of: "sha256:[0-9a-f]{64}", options: .regularExpression).map { String(r.stdout[$0]) }, "\(r.stdout)")
        let inspect = try await session.docker(["image", "inspect", "--format", "{{.Id}}", "slipway-load:1"])
        #expect(inspect.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == id, "docker's image ID is Slipway's: \(inspect.stdout)")
    }

    private func check(_ spec: CaseSpec) async throws {
        let session = try #require(DifferentialSession.current, "the differential session did not start")
        let rules = try DifferenceRules.load(Paths.rules)
        let expectedOutput = rules.isUnsupportedByBuildKit08(spec.name)
        let outcome = try await CaseRun(spec: spec, session: session).run(expectedOutput: expectedOutput)
        let reference = expectedOutput ? "expected.json" : "BuildKit 0.8"
        let verdict = rules.judge(outcome.differences, inCase: spec.name)
        for (rule, difference) in verdict.knownBugs {
            print("KNOWN BUG in \(spec.name): \(difference.field): \(rule.reason)")
        }
        if !verdict.unexplained.isEmpty {
            let lines = verdict.unexplained.prefix(40).map { "  - " + $0.description.replacingOccurrences(of: "reference:", with: "\(reference):") }
            var more = ""
            if verdict.unexplained.count > 40 {
                // The whole list goes to a file the run leaves behind (the report shows the first 40).
                let file = NSTemporaryDirectory() + "slipway-differential-\(spec.name).txt"
                try? verdict.unexplained.map { "- " + $0.description }.joined(separator: "\n").appending("\n")
                    .write(toFile: file, atomically: true, encoding: .utf8)
                more = "\n  … and \(verdict.unexplained.count - 40) more, all listed in \(file)"
            }
            Issue.record(Comment(rawValue: "case '\(spec.name)': \(verdict.unexplained.count) difference(s) from \(reference) that IntendedDifferences.json does not list:\n\(lines.joined(separator: "\n"))\(more)"))
        }
        for rule in verdict.stale {
            Issue.record(Comment(rawValue: "case '\(spec.name)': the \(rule.kind.rawValue) rule for \(rule.field ?? "?") matched nothing; remove it from IntendedDifferences.json (\(rule.reason))"))
        }
        if outcome.unexpectedlySupported {
            Issue.record(Comment(rawValue: "case '\(spec.name)': BuildKit 0.8 builds it after all; drop its buildkit-0.8-unsupported rule and expected.json"))
        }
        print("differential: \(spec.name) compared with \(reference) in \(String(format: "%.1f", outcome.seconds)) s")
    }
}

extension CaseSpec: CustomTestStringConvertible {
    var testDescription: String { name }
}
