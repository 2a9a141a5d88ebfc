import Foundation
import Synchronization
import Testing
import System

@Suite("runOffPool")
struct OffPoolTests {
    /// Eight bodies that each wait until all eight are running at once: on the cooperative pool
    /// (two threads here) they could never meet; each on a thread of its own they all do.
    @Test func everyBodyRunsOnAThreadOfItsOwn() async throws {
        let count = 8
        let arrived = Arrivals()
        let met = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<count {
                group.addTask {
                    try await runOffPool {
                        arrived.count.add(1, ordering: .sequentiallyConsistent)
                        let deadline = Date().addingTimeInterval(20)
                        while arrived.count.load(ordering: .sequentiallyConsistent) < count {
                            if Date() > deadline { return false }
                            usleep(1000)
                        }
                        return true
                    }
                }
            }
            var all = true
            for try await ok in group { all = all && ok }
            return all
        }
        #expect(met)
    }

    final class Arrivals: Sendable {
        let count = Atomic<Int>(0)
    }

    struct Boom: Error, Equatable {}

    @Test func resultsAndErrorsComeBack() async throws {
        #expect(try await runOffPool { 6 * 7 } == 42)
        await #expect(throws: Boom()) { try await runOffPool { () throws -> Int in throw Boom() } }
    }
}
