import Foundation

extension BuildExtensions {
    /// The extensions of `slipway build --secret ... --ssh ... --allow ...` over the store at
    /// `storeRoot` (cache mounts in `<storeRoot>/cache-mounts`, scratch in `<storeRoot>/tmp`).
    public static func fromFlags(secrets: [String], ssh: [String], allow: [String], storeRoot: String,
                                 buildArgs: [String: String] = [:], environment: [String: String] = ProcessInfo.processInfo.environment) throws -> BuildExtensions {
        var allowInsecure = false
        for a in allow {
            switch a {
            case "security.insecure": allowInsecure = true
            case "network.host": break  // host networking is always allowed here
            default: throw MountUseError("invalid --allow \"\(a)\": use security.insecure or network.host")
            }
        }
        var sockets: [String: String] = [:]
        for spec in ssh {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            let id = parts[0].isEmpty ? "default" : parts[0]
            let path: String
            if parts.count == 2 {
                path = parts[1]
            } else if let sock = environment["SSH_AUTH_SOCK"], !sock.isEmpty {
                path = sock
            } else {
                throw MountUseError("--ssh \(spec): no socket path and SSH_AUTH_SOCK is not set (use --ssh \(id)=/path/to/agent.sock)")
            }
            var st = stat()
            guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFSOCK else {
                throw MountUseError("--ssh \(spec): \(path) is not a socket (only agent sockets can be forwarded)")
            }
            sockets[id] = path
        }
        var ext = BuildExtensions(cacheMounts: CacheMountStore(root: storeRoot + "/cache-mounts"),
                                  secrets: try SecretStore.parse(secrets, environment: environment),
                                  sshSockets: sockets, allowInsecure: allowInsecure, scratchDirectory: storeRoot + "/tmp")
        // The build-arg wins over the environment, as with docker buildx.
        if let raw = buildArgs["SOURCE_DATE_EPOCH"] ?? environment["SOURCE_DATE_EPOCH"], !raw.isEmpty {
            guard let v = Int64(raw), v >= 0 else {
                throw MountUseError("invalid SOURCE_DATE_EPOCH \"\(raw)\": use seconds since 1970 (e.g. $(git log -1 --format=%ct))")
            }
            ext.sourceDateEpoch = v
        }
        return ext
    }
}
