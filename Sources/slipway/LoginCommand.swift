import ArgumentParser
import Foundation
import Registry

/// `slipway login REGISTRY`: checks credentials against the registry and stores them in the
/// docker config file (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`), where docker,
/// skopeo and buildah find them too.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in to a registry and store the credentials in the docker config file.")

    @OptionGroup var registryOptions: RegistryOptions

    @Option(name: [.short, .long], help: "Username.")
    var username: String?

    @Option(name: [.short, .long], help: "Password (prefer --password-stdin: arguments are visible to other users).")
    var password: String?

    @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input.")
    var passwordStdin = false

    @Argument(help: "The registry, e.g. ghcr.io or 127.0.0.1:5000 (default: docker.io).")
    var registry: String = "docker.io"

    func run() async throws {
        try await reportingErrorsAsync {
            guard let username, !username.isEmpty else {
                throw ValidationError("a username is required: slipway login -u USER [--password-stdin] \(registry)")
            }
            if passwordStdin && password != nil {
                throw ValidationError("--password and --password-stdin are mutually exclusive")
            }
            let secret: String
            if passwordStdin {
                let data = FileHandle.standardInput.readDataToEndOfFile()
                secret = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
            } else if let password {
                secret = password
            } else if isatty(STDIN_FILENO) == 1, let typed = getpass("Password: ") {
                secret = String(cString: typed)
            } else {
                throw ValidationError("no password: pass --password-stdin and pipe it in")
            }
            guard !secret.isEmpty else { throw ValidationError("the password is empty") }
            let access = registryOptions.access
            let host = try RegistryHost(registry, insecureRegistries: access.insecureRegistries)
            let credentials = RegistryCredentials(username: username, password: secret)
            let client = RegistryClient(host: host, credentials: credentials,
                                        options: RegistryClientOptions(retry: RetryPolicy(maxAttempts: 2)))
            try await client.ping()
            try access.configFile.store(credentials, for: host)
            printLine("Login Succeeded (credentials stored in \(access.configFile.path))")
        }
    }
}

/// `slipway logout REGISTRY`: removes stored credentials.
struct LogoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout",
        abstract: "Remove a registry's credentials from the docker config file.")

    @Argument(help: "The registry (default: docker.io).")
    var registry: String = "docker.io"

    func run() throws {
        try reportingErrors {
            let file = DockerConfigFile()
            let host = try RegistryHost(registry)
            if try file.remove(for: host) {
                printLine("Removed login credentials for \(host.name)")
            } else {
                printLine("Not logged in to \(host.name)")
            }
        }
    }
}
