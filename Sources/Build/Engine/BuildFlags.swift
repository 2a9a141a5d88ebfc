import Foundation

/// Parsing of `slipway build` flag values with docker buildx's syntax.
public enum BuildFlags {
    /// `--build-arg NAME=VALUE`, or `NAME` alone to take the value from the environment
    /// (skipped when unset, as docker does).
    public static func buildArgs(_ raw: [String], environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(BuildError) -> [String: String] {
        var out: [String: String] = [:]
        for a in raw {
            let name: Substring
            if let eq = a.firstIndex(of: "=") {
                name = a[..<eq]
                guard isValidName(name) else { throw .invalidBuildArg(a) }
                out[String(name)] = String(a[a.index(after: eq)...])
            } else {
                guard isValidName(Substring(a)) else { throw .invalidBuildArg(a) }
                if let v = environment[a] { out[a] = v }
            }
        }
        return out
    }

    static func isValidName(_ s: Substring) -> Bool {
        guard let f = s.first, f == "_" || f.isLetter else { return false }
        return s.allSatisfy { $0 == "_" || $0.isLetter || $0.isNumber }
    }

    /// `--label K=V`.
    public static func labels(_ raw: [String]) throws(FlagError) -> [String: String] {
        var out: [String: String] = [:]
        for l in raw {
            guard let eq = l.firstIndex(of: "="), eq != l.startIndex else { throw .invalid("--label", l, "use KEY=VALUE") }
            out[String(l[..<eq])] = String(l[l.index(after: eq)...])
        }
        return out
    }

    /// `--output type=image|oci|docker|local|tar[,dest=PATH]` (also the `-o PATH` shorthand for local).
    /// `--output`/`-o` in buildx's forms. Every key it accepts does what buildx does with it
    /// (`name=` tags the image, `push=true` and `type=registry` push it); a key or value it
    /// cannot honour is refused, never ignored.
    public static func output(_ raw: String) throws(FlagError) -> OutputSpec {
        if !raw.contains("=") {
            return raw == "-" ? OutputSpec(type: .tar, dest: "-") : OutputSpec(type: .local, dest: raw)
        }
        var type: OutputSpec.Kind?
        var dest: String?
        var names: [String] = []
        var push: Bool?
        var tar: Bool?
        for part in raw.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else {
                // `name=a,b` (buildx's several names): a bare part after a name is another name.
                if kv.count == 1, !names.isEmpty, !kv[0].isEmpty { names.append(kv[0]); continue }
                throw .invalid("--output", raw, "use type=TYPE,dest=PATH")
            }
            switch kv[0] {
            case "type":
                guard let t = OutputSpec.Kind(rawValue: kv[1] == "registry" ? "image" : kv[1]) else {
                    throw .invalid("--output", raw, "type must be one of image, registry, oci, docker, local, tar")
                }
                if kv[1] == "registry" { push = push ?? true }
                type = t
            case "dest": dest = kv[1]
            case "name": names.append(kv[1])
            case "push":
                guard let b = Self.bool(kv[1]) else { throw .invalid("--output", raw, "push must be true or false") }
                push = b
            case "tar":
                guard let b = Self.bool(kv[1]) else { throw .invalid("--output", raw, "tar must be true or false") }
                tar = b
            case "compression":
                guard kv[1] == "gzip" else {
                    throw .invalid("--output", raw, "compression=\(kv[1]) is not supported: Slipway writes gzip layers (compression=gzip)")
                }
            default: throw .invalid("--output", raw, "unknown key \"\(kv[0])\" (known: type, dest, name, push, tar, compression)")
            }
        }
        guard let t = type else { throw .invalid("--output", raw, "missing type=") }
        if t != .image && dest == nil { throw .invalid("--output", raw, "type=\(t.rawValue) needs dest=PATH") }
        if t == .local && dest == "-" {
            throw .invalid("--output", raw, "type=local writes a directory, and dest=- is standard output; use type=tar,dest=- (or -o -) for a tar on stdout")
        }
        if dest?.isEmpty == true { throw .invalid("--output", raw, "dest= is empty") }
        if t != .image && (push == true || !names.isEmpty) {
            throw .invalid("--output", raw, "name= and push= go with type=image or type=registry")
        }
        if tar == false {
            guard t == .oci else { throw .invalid("--output", raw, "tar=false goes with type=oci (an OCI layout directory)") }
            if dest == "-" { throw .invalid("--output", raw, "tar=false writes a directory, and dest=- is standard output") }
        }
        return OutputSpec(type: t, dest: dest, names: names, push: push ?? false, tar: tar ?? true)
    }

    static func bool(_ s: String) -> Bool? {
        switch s.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: return nil
        }
    }
}

public struct OutputSpec: Sendable, Equatable {
    public enum Kind: String, Sendable { case image, oci, docker, local, tar }
    public var type: Kind
    public var dest: String?
    /// `name=`: more tags for the image.
    public var names: [String]
    /// `push=true` or `type=registry`: push every tag after the build.
    public var push: Bool
    /// `tar=false` (type=oci): an OCI layout directory at `dest` instead of a tar of one.
    public var tar: Bool
    public init(type: Kind, dest: String?, names: [String] = [], push: Bool = false, tar: Bool = true) {
        self.type = type
        self.dest = dest
        self.names = names
        self.push = push
        self.tar = tar
    }
}

public enum FlagError: Error, Equatable, CustomStringConvertible {
    case invalid(String, String, String)
    public var description: String {
        switch self {
        case .invalid(let flag, let value, let hint): return "invalid \(flag) \"\(value)\": \(hint)"
        }
    }
}
