import Foundation

/// Runs blocking work (waitpid, pipe reads, a `git clone`, a blocking flock, a long file walk)
/// on a thread of its own and suspends the caller until it ends. Swift concurrency's
/// cooperative pool has only as many threads as cores (two here): a task that blocks one of
/// them stalls every other task, and a dispatch queue's threads are shared the same way.
public func runOffPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
