import Foundation
import OCI
import Testing
import TestSupport

/// `slipway history --builds TAG` and `--compare A B`: the store keeps each build's steps, their
/// status, time and why they ran.
@Suite("Build history: --builds and --compare", .serialized, .requires(BuildHarness.requirements))
struct BuildHistoryTests {
    struct Record: Decodable {
        struct Step: Decodable { var name: String; var status: String; var reason: String? }
        var id: String
        var started: String
        var succeeded: Bool
        var image: String?
        var tags: [String]
        var steps: [Step]
    }

    @Test func buildsOfATagAndTheirComparison() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("a.txt", "one\n")
        try s.write("Dockerfile", "FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt\n")
        #expect(try await s.build(["-t", "hist:1"]).status == 0)
        try s.write("a.txt", "two, longer\n")
        #expect(try await s.build(["-t", "hist:1"]).status == 0)
        try s.write("Dockerfile", "FROM busybox\nCOPY a.txt /a.txt\nRUN exit 7\n")
        #expect(try await s.build(["-t", "hist:1"]).status != 0)
        #expect(try await s.build(["-t", "other:1"]).status != 0)

        let json = try await s.slipway(["history", "--builds", "hist:1", "--format", "json"])
        #expect(json.status == 0, "\(json.combined)")
        let records = try json.stdout.split(separator: "\n").map { try JSONDecoder().decode(Record.self, from: Data($0.utf8)) }
        #expect(records.count == 3, "only builds of hist:1, newest first: \(json.stdout)")
        #expect(records.map(\.succeeded) == [false, true, true])
        // RFC 3339 times, newest first, and recent (not seconds since 2001).
        let times = records.compactMap { Timestamp.parse($0.started) }
        #expect(times.count == 3 && times == times.sorted(by: >), "\(records.map(\.started))")
        #expect(times.allSatisfy { abs($0.timeIntervalSinceNow) < 3600 }, "\(records.map(\.started))")
        #expect(records.allSatisfy { $0.tags == ["docker.io/library/hist:1"] })
        let second = records[1]
        let copy = try #require(second.steps.first { $0.name.contains("COPY a.txt") })
        #expect(copy.status == "RAN" && copy.reason?.contains("a.txt changed") == true, "\(copy)")

        let table = try await s.slipway(["history", "--builds", "hist:1", "--last", "2"])
        #expect(table.stdout.contains("FAILED") && table.stdout.contains("a.txt changed"), "\(table.stdout)")
        #expect(table.stdout.components(separatedBy: "build ").count - 1 == 2, "--last 2: \(table.stdout)")

        let compare = try await s.slipway(["history", "--compare", String(records[2].id.prefix(8)), String(records[1].id.prefix(8))])
        #expect(compare.status == 0, "\(compare.combined)")
        let line = compare.stdout.split(separator: "\n").first { $0.hasPrefix("COPY a.txt") } ?? ""
        #expect(line.contains("RAN") && line.contains("a.txt changed"), "\(compare.stdout)")
        let bad = try await s.slipway(["history", "--compare", "zzzz", "yyyy"])
        #expect(bad.status != 0 && bad.stderr.contains("no build with id 'zzzz'"), "\(bad.combined)")
    }

    @Test("a build whose push fails is recorded as failed, with the image it stored")
    func failedPushIsRecorded() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("Dockerfile", "FROM busybox\nRUN echo pushed > /p\n")
        // Nothing listens on port 9 of this machine: the push fails at once, after the build.
        let tag = "127.0.0.1:9/hist/push:1"
        let build = try await s.build(["-t", tag, "--push"])
        #expect(build.status != 0, "\(build.combined)")
        let json = try await s.slipway(["history", "--builds", tag, "--format", "json"])
        #expect(json.status == 0, "\(json.combined)")
        let records = try json.stdout.split(separator: "\n").map { try JSONDecoder().decode(Record.self, from: Data($0.utf8)) }
        #expect(records.count == 1 && records.first?.succeeded == false, "\(json.stdout)")
        #expect(records.first?.image?.hasPrefix("sha256:") == true, "the image was stored before the push: \(json.stdout)")
    }
}
