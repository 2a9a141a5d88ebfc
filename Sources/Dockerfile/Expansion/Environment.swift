/// An ordered set of variables (ARGs, ENVs, build args) with replace-in-place semantics,
/// like BuildKit's `llb.EnvList`: setting an existing key keeps its position.
public struct Environment: VariableLookup, Sendable, Equatable {
    public private(set) var keys: [String] = []
    private var values: [String: String] = [:]
    /// UTF-8 bytes of all names and values (checked against `ExpansionLimits.maxScopeBytes`).
    public private(set) var byteCount = 0

    public init() {}

    /// From `KEY=VALUE` strings (an image config's `Env`); an entry without `=` has an empty value.
    public init(keyValueStrings: [String]) {
        for entry in keyValueStrings {
            if let eq = entry.firstIndex(of: "=") {
                self[String(entry[..<eq])] = String(entry[entry.index(after: eq)...])
            } else {
                self[entry] = ""
            }
        }
    }

    public init(_ pairs: [(String, String)]) {
        for (k, v) in pairs { self[k] = v }
    }

    public func lookup(_ name: String) -> String? { values[name] }

    public subscript(name: String) -> String? {
        get { values[name] }
        set {
            if let newValue {
                byteCount += newValue.utf8.count
                if let old = values.updateValue(newValue, forKey: name) {
                    byteCount -= old.utf8.count
                } else {
                    keys.append(name)
                    byteCount += name.utf8.count
                }
            } else if let old = values.removeValue(forKey: name) {
                byteCount -= old.utf8.count + name.utf8.count
                keys.removeAll { $0 == name }
            }
        }
    }

    public var isEmpty: Bool { keys.isEmpty }

    /// `KEY=VALUE` strings in order (for an image config or a process environment).
    public var keyValueStrings: [String] { keys.map { "\($0)=\(values[$0] ?? "")" } }

    /// Pairs in order.
    public var pairs: [(key: String, value: String)] { keys.map { ($0, values[$0] ?? "") } }

    /// Variables of `other` override or extend these.
    public func merging(_ other: Environment) -> Environment {
        var out = self
        for k in other.keys { out[k] = other.values[k] }
        return out
    }
}

/// A lookup that finds nothing (BuildKit's `emptyEnvs`).
public struct EmptyLookup: VariableLookup, Sendable {
    public init() {}
    public func lookup(_ name: String) -> String? { nil }
}
