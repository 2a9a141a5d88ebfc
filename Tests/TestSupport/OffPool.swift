import Foundation
import System

/// Runs blocking work (a child process to completion) on a thread of its own and delivers its
/// result: `System.runOffPool`, under the name the tests use. The whole suite shares one
/// cooperative pool with as many threads as cores (two here): a test blocked in waitpid on a
/// pool thread stalls every other test's tasks while the child runs.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await runOffPool(body)
}

/// `offPool` for work that cannot fail (no `try` at the call site, which `runOffPool` needs).
public func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread {
            continuation.resume(returning: body())
        }.start()
    }
}
