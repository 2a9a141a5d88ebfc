import Foundation

/// The build's secrets, as `--secret` gave them. Values are read from their file or variable
/// only when a step mounts them, and never kept beyond the step.
public struct SecretStore: Sendable {
    public enum Source: Sendable, Equatable {
        case file(String)
        case env(String)
    }

    public var sources: [String: Source]

    public init(_ sources: [String: Source] = [:]) {
        self.sources = sources
    }

    /// Parses docker buildx's `--secret` values: `id=X,src=FILE` (also `source=`), `id=X,env=VAR`,
    /// `type=file|env`; a bare `id=X` reads variable X when set, else file X.
    public static func parse(_ flags: [String], environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SecretStore {
        var out: [String: Source] = [:]
        for flag in flags {
            var id: String?
            var type: String?
            var src: String?
            var env: String?
            for field in flag.split(separator: ",", omittingEmptySubsequences: true) {
                guard let eq = field.firstIndex(of: "=") else {
                    throw MountUseError("invalid --secret \"\(flag)\": field \"\(field)\" must be key=value (e.g. id=token,src=./token.txt)")
                }
                let key = field[..<eq].lowercased()
                let value = String(field[field.index(after: eq)...])
                switch key {
                case "id": id = value
                case "type": type = value
                case "src", "source": src = value
                case "env": env = value
                default:
                    throw MountUseError("invalid --secret \"\(flag)\": unknown key \"\(key)\" (use id, src, env, type)")
                }
            }
            if id == nil { id = src.map { ($0 as NSString).lastPathComponent } ?? env }
            guard let id, !id.isEmpty else {
                throw MountUseError("invalid --secret \"\(flag)\": missing id= (e.g. id=token,src=./token.txt)")
            }
            switch type {
            case nil:
                if let src { out[id] = .file(src) } else if let env { out[id] = .env(env) } else if environment[id] != nil {
                    out[id] = .env(id)
                } else {
                    out[id] = .file(id)
                }
            case "file"?:
                out[id] = .file(src ?? id)
            case "env"?:
                out[id] = .env(env ?? src ?? id)
            case let t?:
                throw MountUseError("invalid --secret \"\(flag)\": type \"\(t)\" (use file or env)")
            }
            if case .file(let path)? = out[id], access(path, R_OK) != 0 {
                throw MountUseError("--secret id=\(id): cannot read \(path)")
            }
        }
        return SecretStore(out)
    }

    /// The secret's bytes, or nil when it was not given (or its variable is unset).
    func value(_ id: String) throws -> [UInt8]? {
        switch sources[id] {
        case nil:
            return nil
        case .env(let name)?:
            guard let v = ProcessInfo.processInfo.environment[name] else { return nil }
            return Array(v.utf8)
        case .file(let path)?:
            guard let data = FileManager.default.contents(atPath: path) else {
                throw MountUseError("secret \(id): cannot read \(path)")
            }
            return Array(data)
        }
    }
}
