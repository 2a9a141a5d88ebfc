import Foundation

/// How often and how patiently transient failures (connection reset, 429, 5xx) are retried.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    /// Delay before the second attempt; doubles each time up to `maxDelay`.
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 5, baseDelay: Double = 0.25, maxDelay: Double = 8) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// No retries (tests of failure paths).
    public static let none = RetryPolicy(maxAttempts: 1)

    /// Runs `operation` until it succeeds, fails with a non-transient error, or attempts run out.
    /// `operation` gets the 1-based attempt number.
    func run<T: Sendable>(_ operation: (Int) async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await operation(attempt)
            } catch let error as RegistryError where error.isTransient && attempt < maxAttempts {
                try await Task.sleep(nanoseconds: UInt64(delay(after: attempt, error: error) * 1e9))
                attempt += 1
            }
        }
    }

    func delay(after attempt: Int, error: RegistryError) -> Double {
        let backoff = min(maxDelay, baseDelay * pow(2, Double(attempt - 1)))
        if case .httpStatus(_, _, _, _, let retryAfter?) = error { return min(maxDelay, max(backoff, retryAfter)) }
        // Jitter keeps parallel layer downloads from retrying in lock step.
        return backoff * Double.random(in: 0.75...1.25)
    }
}
