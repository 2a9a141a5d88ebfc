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
    public static func output(_ raw: String) throws(FlagError) -> OutputSpec {
        if !raw.contains("=") {
            return raw == "-" ? OutputSpec(type: .tar, dest: "-") : OutputSpec(type: .local, dest: raw)
        }
        var type: OutputSpec.Kind?
        var dest: String?
        for part in raw.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw .invalid("--output", raw, "use type=TYPE,dest=PATH") }
            switch kv[0] {
            case "type":
                guard let t = OutputSpec.Kind(rawValue: kv[1]) else {
                    throw .invalid("--output", raw, "type must be one of image, oci, docker, local, tar")
                }
                type = t
            case "dest": dest = kv[1]
            case "name", "push", "compression": break
            default: throw .invalid("--output", raw, "unknown key \"\(kv[0])\"")
            }
        }
        guard let t = type else { throw .invalid("--output", raw, "missing type=") }
        if t != .image && dest == nil { throw .invalid("--output", raw, "type=\(t.rawValue) needs dest=PATH") }
        if t == .local && dest == "-" {
            throw .invalid("--output", raw, "type=local writes a directory, and dest=- is standard output; use type=tar,dest=- (or -o -) for a tar on stdout")
        }
        if dest?.isEmpty == true { throw .invalid("--output", raw, "dest= is empty") }
        return OutputSpec(type: t, dest: dest)
    }
}

public struct OutputSpec: Sendable, Equatable {
    public enum Kind: String, Sendable { case image, oci, docker, local, tar }
    public var type: Kind
    public var dest: String?
    public init(type: Kind, dest: String?) {
        self.type = type
        self.dest = dest
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
