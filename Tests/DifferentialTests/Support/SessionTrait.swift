import Testing

/// Starts the differential session (dockerd, store, scratch directory) once around the whole
/// suite and stops it afterwards, whether the tests passed, failed or threw. (If the test
/// process dies instead, the session script's watchdog stops the daemon.)
struct DifferentialSessionTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        // The suite's `.enabled(if:)` skips every test when a prerequisite is missing; start
        // nothing then.
        guard Paths.missingPrerequisite == nil else { return try await function() }
        let session = try await DifferentialSession.start()
        do {
            try await DifferentialSession.$current.withValue(session) { try await function() }
        } catch {
            await session.stop()
            throw error
        }
        await session.stop()
    }
}

extension Trait where Self == DifferentialSessionTrait {
    /// See `DifferentialSessionTrait`.
    static var differentialSession: Self { Self() }
}
