import Foundation
import Testing
@testable import Build

/// Records the order of events from concurrent stage tasks.
actor EventLog {
    var events: [String] = []
    var running = 0
    var maxRunning = 0
    func add(_ e: String) { events.append(e) }
    func enter() { running += 1; maxRunning = max(maxRunning, running) }
    func leave() { running -= 1 }
}

@Suite("Engine: stage scheduler")
struct EngineSchedulerTests {
    @Test("independent stages overlap; a dependent stage sees its dependency's result")
    func overlapAndDeps() async throws {
        let log = EventLog()
        let results = try await StageScheduler(jobs: 2).run(stages: [0, 1, 2], dependencies: [2: [0, 1]]) {
            (index: Int, deps: StageScheduler.Dependencies<Int>) async throws -> Int in
            await log.enter()
            if index == 2 {
                await log.leave()
                let a = try await deps.result(of: 0)
                let b = try await deps.result(of: 1)
                return a + b
            }
            try await Task.sleep(for: .milliseconds(100))
            await log.leave()
            return index + 10
        }
        #expect(results[2] == 21)
        #expect(await log.maxRunning >= 2)
    }

    @Test("--jobs 1 runs one stage at a time and cannot deadlock on a dependency")
    func oneJob() async throws {
        let log = EventLog()
        let results = try await StageScheduler(jobs: 1).run(stages: [0, 1], dependencies: [1: [0]]) {
            (index: Int, deps: StageScheduler.Dependencies<String>) async throws -> String in
            await log.enter()
            defer { Task { await log.leave() } }
            if index == 1 { return try await deps.result(of: 0) + "+1" }
            try await Task.sleep(for: .milliseconds(20))
            return "0"
        }
        #expect(results[1] == "0+1")
    }

    @Test("a failing stage fails the run and cancels the others")
    func failure() async throws {
        struct Boom: Error {}
        let log = EventLog()
        await #expect(throws: Boom.self) {
            _ = try await StageScheduler(jobs: 2).run(stages: [0, 1], dependencies: [:]) {
                (index: Int, _: StageScheduler.Dependencies<Int>) async throws -> Int in
                if index == 0 { throw Boom() }
                // Long enough that only cancellation can end it, even on a starved test machine.
                try await Task.sleep(for: .seconds(300))
                await log.add("slow stage finished")
                return 1
            }
        }
        #expect(await log.events.isEmpty)
    }

    @Test("a stage asking for an unscheduled stage gets an error, not a hang")
    func unscheduled() async throws {
        await #expect(throws: SchedulerError.self) {
            _ = try await StageScheduler(jobs: 2).run(stages: [1], dependencies: [:]) {
                (_: Int, deps: StageScheduler.Dependencies<Int>) async throws -> Int in
                try await deps.result(of: 0)
            }
        }
    }
}
