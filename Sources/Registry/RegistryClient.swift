import Foundation
import HTTP
import OCI

/// Tunables for a `RegistryClient`.
public struct RegistryClientOptions: Sendable {
    public var retry: RetryPolicy
    /// Upload blobs in PATCH chunks of this many bytes; nil uploads in one PUT (fastest where
    /// the registry accepts it, which all do).
    public var chunkSize: Int?
    /// Idle timeout per request, in seconds: a connection that moves no byte for this long
    /// (a registry or proxy gone silent mid-transfer) fails and is retried.
    public var requestTimeout: TimeInterval
    /// Seconds to connect (TCP and TLS handshake).
    public var connectTimeout: TimeInterval
    /// Idle connections kept for reuse (one per concurrent transfer).
    public var maxConnectionsPerHost: Int
    public var userAgent: String
    /// CAs trusted for HTTPS; by default `SSL_CERT_FILE` / `SSL_CERT_DIR`, else the system bundle.
    public var trust: TLSTrust

    public init(retry: RetryPolicy = RetryPolicy(), chunkSize: Int? = nil, requestTimeout: TimeInterval = 30,
                connectTimeout: TimeInterval = 15, maxConnectionsPerHost: Int = 8, userAgent: String = "slipway/0.1",
                trust: TLSTrust = .environment) {
        self.retry = retry
        self.chunkSize = chunkSize
        self.requestTimeout = requestTimeout
        self.connectTimeout = connectTimeout
        self.maxConnectionsPerHost = maxConnectionsPerHost
        self.userAgent = userAgent
        self.trust = trust
    }
}

/// A client for one registry speaking the OCI distribution API: authentication (anonymous,
/// Basic, Bearer tokens), blob and manifest transfer with digest verification and retries.
public final class RegistryClient: Sendable {
    public let host: RegistryHost
    public let options: RegistryClientOptions
    let credentials: RegistryCredentials?
    let transport: HTTPTransport
    let auth = AuthState()

    public init(host: RegistryHost, credentials: RegistryCredentials? = nil, options: RegistryClientOptions = .init()) {
        self.host = host
        self.credentials = credentials
        self.options = options
        self.transport = HTTPTransport(settings: .init(connectTimeout: options.connectTimeout,
                                                       stallTimeout: options.requestTimeout, trust: options.trust,
                                                       pooledHandles: options.maxConnectionsPerHost))
    }

    /// A client for `registry` using the credentials stored for it in the docker config file.
    public convenience init(registry: String, insecureRegistries: Set<String> = [],
                            configFile: DockerConfigFile = DockerConfigFile(),
                            options: RegistryClientOptions = .init()) throws {
        let host = try RegistryHost(registry, insecureRegistries: insecureRegistries)
        self.init(host: host, credentials: try configFile.credentials(for: host), options: options)
    }

    // MARK: - Ping

    /// `GET /v2/`: checks the registry speaks the API and that our credentials (if any) are
    /// accepted. Throws `unauthorized` for rejected credentials.
    public func ping() async throws {
        try await options.retry.run { _ in
            let response = try await execute("GET", url(path: "/v2/"), scopes: [])
            guard response.status == 200 else {
                throw statusError(response, method: "GET")
            }
        }
    }

    // MARK: - Requests with authentication

    func url(path: String, query: [URLQueryItem] = []) -> URL {
        var components = URLComponents(url: host.baseURL, resolvingAgainstBaseURL: false) ?? URLComponents()
        components.percentEncodedPath = path
        if !query.isEmpty { components.queryItems = query }
        return components.url ?? host.baseURL
    }

    static func repositoryPath(_ repository: String) throws -> String {
        let valid = !repository.isEmpty && repository.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { part in
            !part.isEmpty && part.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "._-".contains($0)) }
        }
        guard valid else {
            throw RegistryError.invalidName(repository, reason: "repository names are lowercase letters, digits and . _ - separated by /")
        }
        return repository
    }

    /// Sends a request, adding credentials for `scopes`. On 401 it learns the challenge,
    /// fetches a token (or uses Basic) and sends once more.
    func execute(_ method: String, _ url: URL, headers: [String: String] = [:], body: RequestBody = .none,
                 scopes: [String], sink: ResponseSink? = nil) async throws -> HTTPResponse {
        var authorization = try await authorizationHeader(scopes: scopes)
        var retriedAuth = false
        while true {
            var request = HTTPRequest(method: method, url: url, headers: headers, body: body)
            request.setHeader("User-Agent", options.userAgent)
            if let authorization { request.setHeader("Authorization", authorization) }
            let response = try await RegistryError.wrapping { try await transport.send(request, sink: sink) }
            guard response.status == 401, !retriedAuth else {
                if response.status == 401 || response.status == 403 {
                    throw RegistryError.unauthorized(registry: host.name, detail: Self.errorSummary(response.body, status: response.status))
                }
                return response
            }
            retriedAuth = true
            guard let header = response.header("www-authenticate"), let challenge = AuthChallenge(header: header) else {
                throw RegistryError.unauthorized(registry: host.name, detail: "HTTP 401 without a WWW-Authenticate challenge")
            }
            await auth.learn(challenge)
            if challenge.isBearer {
                var wanted = scopes
                if let s = challenge.scope {
                    for scope in s.split(separator: " ").map(String.init) where !wanted.contains(scope) { wanted.append(scope) }
                }
                await auth.invalidate(Self.scopeKey(wanted))
                authorization = try await authorizationHeader(scopes: wanted)
            } else if challenge.isBasic {
                guard let credentials else {
                    throw RegistryError.unauthorized(registry: host.name, detail: "the registry requires a login")
                }
                authorization = credentials.basicAuthorization
            } else {
                throw RegistryError.unauthorized(registry: host.name, detail: "unsupported authentication scheme '\(challenge.scheme)'")
            }
        }
    }

    static func scopeKey(_ scopes: [String]) -> String { scopes.sorted().joined(separator: " ") }

    /// The Authorization value for the challenge learned so far, or nil (anonymous).
    private func authorizationHeader(scopes: [String]) async throws -> String? {
        guard let challenge = await auth.challenge else { return nil }
        if challenge.isBasic { return credentials?.basicAuthorization }
        guard challenge.isBearer, let realm = challenge.realm else { return nil }
        let service = challenge.service
        let token = try await auth.token(for: Self.scopeKey(scopes)) { [self] in
            try await fetchToken(realm: realm, service: service, scopes: scopes)
        }
        return "Bearer " + token
    }

    /// The token endpoint of the Docker token spec: GET realm?service=&scope=..., Basic
    /// credentials when we have them, answer `{token|access_token, expires_in}`.
    private func fetchToken(realm: String, service: String?, scopes: [String]) async throws -> (String, TimeInterval) {
        guard var components = URLComponents(string: realm), components.scheme != nil else {
            throw RegistryError.tokenRequestFailed(realm: realm, detail: "the realm is not a URL")
        }
        var items = components.queryItems ?? []
        if let service { items.append(URLQueryItem(name: "service", value: service)) }
        for scope in scopes { items.append(URLQueryItem(name: "scope", value: scope)) }
        components.queryItems = items.isEmpty ? nil : items
        guard let tokenURL = components.url else {
            throw RegistryError.tokenRequestFailed(realm: realm, detail: "cannot build the token URL")
        }
        return try await options.retry.run { _ in
            var request = HTTPRequest(url: tokenURL)
            request.setHeader("User-Agent", options.userAgent)
            if let credentials { request.setHeader("Authorization", credentials.basicAuthorization) }
            let response = try await RegistryError.wrapping { try await transport.send(request) }
            switch response.status {
            case 200:
                break
            case 401, 403:
                throw RegistryError.unauthorized(registry: host.name,
                                                 detail: "the token server at \(realm) rejected \(credentials == nil ? "anonymous access" : "the credentials")")
            default:
                throw statusError(response, method: "GET")
            }
            struct TokenResponse: Decodable {
                var token: String?
                var access_token: String?
                var expires_in: Double?
            }
            guard let decoded = try? JSONDecoder().decode(TokenResponse.self, from: response.body),
                  let token = decoded.token ?? decoded.access_token, !token.isEmpty else {
                throw RegistryError.tokenRequestFailed(realm: realm, detail: "the answer has no token")
            }
            // The token spec's default lifetime is 60 seconds.
            return (token, decoded.expires_in ?? 60)
        }
    }

    // MARK: - Errors

    func statusError(_ response: HTTPResponse, method: String) -> RegistryError {
        let retryAfter = response.header("retry-after").flatMap(Double.init)
        return .httpStatus(response.status, method: method, url: response.url.absoluteString,
                           body: Self.errorSummary(response.body, status: response.status), retryAfter: retryAfter)
    }

    /// `CODE: message` from a distribution error body, else the start of the body.
    static func errorSummary(_ body: Data, status: Int) -> String {
        struct Errors: Decodable {
            struct Item: Decodable { var code: String?; var message: String? }
            var errors: [Item]?
        }
        if let decoded = try? JSONDecoder().decode(Errors.self, from: body), let items = decoded.errors, !items.isEmpty {
            return items.map { [$0.code, $0.message].compactMap { $0 }.joined(separator: ": ") }.joined(separator: "; ")
        }
        let text = String(decoding: body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? HTTPStatusText.reason(status) : text
    }
}
