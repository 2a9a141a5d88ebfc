import Foundation
import System

/// A username and password (or token as password) for one registry.
public struct RegistryCredentials: Equatable, Sendable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// The `Authorization: Basic ...` value.
    var basicAuthorization: String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }
}

/// `~/.docker/config.json` (or `$DOCKER_CONFIG/config.json`): the `auths` map Docker, skopeo and
/// buildah share. Other keys in the file are preserved on write.
public struct DockerConfigFile: Sendable {
    public let path: String

    /// The file Docker would use: `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let dir = environment["DOCKER_CONFIG"], !dir.isEmpty {
            return (dir as NSString).appendingPathComponent("config.json")
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".docker/config.json")
    }

    public init(path: String = DockerConfigFile.defaultPath()) {
        self.path = path
    }

    /// Credentials for a registry, or nil when the file or the entry is absent.
    public func credentials(for registry: RegistryHost) throws -> RegistryCredentials? {
        guard let root = try load() else { return nil }
        guard let auths = root["auths"] as? [String: Any] else { return nil }
        for (key, value) in auths where Self.keyMatches(key, registry) {
            guard let entry = value as? [String: Any] else { continue }
            if let auth = entry["auth"] as? String, !auth.isEmpty {
                guard let decoded = Data(base64Encoded: auth).flatMap({ String(data: $0, encoding: .utf8) }),
                      let colon = decoded.firstIndex(of: ":") else {
                    throw RegistryError.credentialsFile(path: path, detail: "the 'auth' entry for \(key) is not base64 of 'user:password'")
                }
                return RegistryCredentials(username: String(decoded[..<colon]),
                                           password: String(decoded[decoded.index(after: colon)...]))
            }
            if let user = entry["username"] as? String, let password = entry["password"] as? String {
                return RegistryCredentials(username: user, password: password)
            }
        }
        return nil
    }

    /// Stores credentials for a registry (atomically, mode 0600), replacing any entry for it.
    public func store(_ credentials: RegistryCredentials, for registry: RegistryHost) throws {
        var root = try load() ?? [:]
        var auths = root["auths"] as? [String: Any] ?? [:]
        for key in auths.keys where Self.keyMatches(key, registry) { auths.removeValue(forKey: key) }
        let token = Data("\(credentials.username):\(credentials.password)".utf8).base64EncodedString()
        auths[registry.credentialKey] = ["auth": token]
        root["auths"] = auths
        try save(root)
    }

    /// Removes a registry's entry. Returns false when there was none.
    @discardableResult
    public func remove(for registry: RegistryHost) throws -> Bool {
        guard var root = try load(), var auths = root["auths"] as? [String: Any] else { return false }
        let keys = auths.keys.filter { Self.keyMatches($0, registry) }
        guard !keys.isEmpty else { return false }
        for key in keys { auths.removeValue(forKey: key) }
        root["auths"] = auths
        try save(root)
        return true
    }

    /// Docker keys entries as `host`, `https://host`, `https://host/v1/`...; compare the host part.
    static func keyMatches(_ key: String, _ registry: RegistryHost) -> Bool {
        var k = key.lowercased()
        for prefix in ["https://", "http://"] where k.hasPrefix(prefix) { k.removeFirst(prefix.count) }
        if let slash = k.firstIndex(of: "/") { k = String(k[..<slash]) }
        if k == "index.docker.io" || k == "registry-1.docker.io" { k = RegistryHost.dockerHubName }
        return k == registry.name
    }

    private func load() throws -> [String: Any]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw RegistryError.credentialsFile(path: path, detail: "cannot read: \(error.localizedDescription)")
        }
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: data), let root = object as? [String: Any] else {
            throw RegistryError.credentialsFile(path: path, detail: "not a JSON object; fix or remove the file")
        }
        return root
    }

    private func save(_ root: [String: Any]) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            let data = try JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys])
            let tmp = dir.appendingPathComponent(".config.json.\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
            guard FileManager.default.createFile(atPath: tmp.path, contents: data,
                                                 attributes: [.posixPermissions: 0o600]) else {
                throw RegistryError.credentialsFile(path: path, detail: "cannot write \(tmp.path)")
            }
            let fd = open(tmp.path, O_RDONLY)
            if fd >= 0 { fsync(fd); close(fd) }
            if rename(tmp.path, path) != 0 {
                let failure = SystemError.last("rename to \(path)", path: tmp.path)
                unlink(tmp.path)
                throw RegistryError.credentialsFile(path: path, detail: failure.description)
            }
        } catch let error as RegistryError {
            throw error
        } catch {
            throw RegistryError.credentialsFile(path: path, detail: error.localizedDescription)
        }
    }
}
