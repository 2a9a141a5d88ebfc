import Foundation

/// Runs blocking work (a child process to completion) on a thread of its own and delivers its
/// result. The whole suite shares one cooperative pool with as many threads as cores (two here):
/// a test blocked in waitpid on a pool thread stalls every other test's tasks while the child runs.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(with: Result { try body() })
        }.start()
    }
}

/// `offPool` for work that cannot fail.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread {
            continuation.resume(returning: body())
        }.start()
    }
}
