import Foundation

/// What a client learned about a registry's authentication: the challenge it answered with and
/// the bearer tokens fetched so far, one per scope set, kept until they expire.
actor AuthState {
    private(set) var challenge: AuthChallenge?
    private var tokens: [String: (token: String, expires: Date)] = [:]
    private var inflight: [String: Task<String, Error>] = [:]

    func learn(_ challenge: AuthChallenge) {
        // Keep realm/service stable; a 401 for insufficient scope names the new scope.
        self.challenge = challenge
    }

    /// A cached token for `key` if still valid, else runs `fetch` once even when many callers
    /// ask at the same time (parallel layer downloads share one token request).
    func token(for key: String, fetch: @escaping @Sendable () async throws -> (String, TimeInterval)) async throws -> String {
        if let cached = tokens[key], cached.expires > Date() { return cached.token }
        if let running = inflight[key] { return try await running.value }
        let task = Task<String, Error> {
            let (token, lifetime) = try await fetch()
            self.store(token, key: key, lifetime: lifetime)
            return token
        }
        inflight[key] = task
        defer { inflight[key] = nil }
        return try await task.value
    }

    /// Forgets a token the registry rejected.
    func invalidate(_ key: String) {
        tokens[key] = nil
    }

    private func store(_ token: String, key: String, lifetime: TimeInterval) {
        // Renew a little early so a token never expires mid-request.
        tokens[key] = (token, Date().addingTimeInterval(max(1, lifetime - min(10, lifetime / 4))))
    }
}
