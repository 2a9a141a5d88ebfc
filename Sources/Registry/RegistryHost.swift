import Foundation

/// Where a registry lives and how to reach it: the name users write, the host the API is served
/// from (Docker Hub's differs), and whether to use plain HTTP.
public struct RegistryHost: Hashable, Sendable, CustomStringConvertible {
    /// The name as users and `~/.docker/config.json` know it (`docker.io`, `127.0.0.1:5000`).
    public let name: String
    /// `host[:port]` serving `/v2/` (`registry-1.docker.io` for Docker Hub).
    public let apiHost: String
    /// Plain HTTP instead of HTTPS.
    public let insecure: Bool

    public static let dockerHubName = "docker.io"
    static let dockerHubAPIHost = "registry-1.docker.io"
    /// The key Docker writes Hub credentials under in config.json.
    static let dockerHubCredentialKey = "https://index.docker.io/v1/"

    /// - Parameters:
    ///   - name: a registry name such as `ghcr.io`, `localhost:5000`, `docker.io`.
    ///   - insecureRegistries: hosts (`host` or `host:port`) to reach over plain HTTP, in
    ///     addition to loopback names, which always use HTTP.
    public init(_ name: String, insecureRegistries: Set<String> = []) throws {
        var n = name.lowercased()
        for prefix in ["https://", "http://"] where n.hasPrefix(prefix) { n.removeFirst(prefix.count) }
        while n.hasSuffix("/") { n.removeLast() }
        if n.hasSuffix("/v1") || n.hasSuffix("/v2") { n.removeLast(3) }
        guard !n.isEmpty, !n.contains("/"), !n.contains(" "), !n.contains("@") else {
            throw RegistryError.invalidName(name, reason: "expected a registry host such as 'ghcr.io' or '127.0.0.1:5000'")
        }
        if n == "index.docker.io" || n == Self.dockerHubAPIHost { n = Self.dockerHubName }
        self.name = n
        self.apiHost = n == Self.dockerHubName ? Self.dockerHubAPIHost : n
        let bare = Self.stripPort(n)
        self.insecure = bare == "localhost" || bare == "127.0.0.1" || bare == "[::1]" || bare == "::1"
            || insecureRegistries.contains(n) || insecureRegistries.contains(bare)
    }

    public var isDockerHub: Bool { name == Self.dockerHubName }

    public var description: String { name }

    /// `https://host` or `http://host`.
    public var baseURL: URL {
        // Host names were validated in init (no slashes, spaces or '@'), so this parses.
        URL(string: "\(insecure ? "http" : "https")://\(apiHost)") ?? URL(fileURLWithPath: "/")
    }

    /// Docker Hub puts single-component repositories under `library/`.
    public func normalizedRepository(_ repository: String) -> String {
        if isDockerHub && !repository.contains("/") { return "library/" + repository }
        return repository
    }

    /// The key this registry's entry has in config.json `auths`.
    var credentialKey: String { isDockerHub ? Self.dockerHubCredentialKey : name }

    private static func stripPort(_ host: String) -> String {
        if host.hasPrefix("[") {
            if let end = host.firstIndex(of: "]") { return String(host[...end]) }
            return host
        }
        if let colon = host.lastIndex(of: ":") { return String(host[..<colon]) }
        return host
    }
}
