import Foundation
import OCI

/// How to reach registries: which hosts are plain HTTP, where credentials live, and client
/// tunables. One value serves every registry an operation touches; clients (and so their
/// tokens) are made per registry host.
public struct RegistryAccess: Sendable {
    public var insecureRegistries: Set<String>
    public var configFile: DockerConfigFile
    public var options: RegistryClientOptions

    public init(insecureRegistries: Set<String> = [], configFile: DockerConfigFile = DockerConfigFile(),
                options: RegistryClientOptions = .init()) {
        self.insecureRegistries = insecureRegistries
        self.configFile = configFile
        self.options = options
    }

    /// A client for the registry named by a reference's domain (`docker.io`, `127.0.0.1:5000`).
    public func client(for domain: String) throws -> RegistryClient {
        try RegistryClient(registry: domain, insecureRegistries: insecureRegistries, configFile: configFile, options: options)
    }
}
