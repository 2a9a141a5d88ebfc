/// One `RUN --mount=...` (BuildKit's `instructions.Mount`).
public struct Mount: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        case bind, cache, tmpfs, secret, ssh
    }

    public enum Sharing: String, Sendable, Equatable, CaseIterable {
        case shared, `private`, locked
    }

    public var type: Kind = .bind
    /// `from=`: a stage name or index, or an image; nil = the build context (bind) or an empty dir (cache).
    public var from: String?
    public var source: String?
    public var target: String?
    public var readOnly = true
    public var sizeLimit: Int64?
    /// `id=` (cache id or secret id).
    public var id: String?
    public var sharing: Sharing?
    public var required = false
    /// `env=` for secrets.
    public var env: String?
    public var mode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?

    public init() {}

    /// Parses a `--mount` value. With `expand`, each value is expanded first and everything is
    /// validated; without it, only what can be checked before expansion is (as BuildKit does
    /// at parse time: `from` must not use variables).
    public static func parse(_ spec: String, expand: ((String) throws(ExpansionError) -> String)?) throws(MountError) -> Mount {
        guard let fields = Validation.csvFields(spec) else {
            throw MountError("failed to parse csv mounts: \(spec)")
        }
        var m = Mount()
        var roAuto = true
        for field in fields {
            let key: String
            var value: String
            let hasValue: Bool
            if let eq = field.firstIndex(of: "=") {
                key = field[..<eq].lowercased()
                value = String(field[field.index(after: eq)...])
                hasValue = true
            } else {
                key = field.lowercased()
                value = ""
                hasValue = false
            }
            if !hasValue {
                guard expand != nil else { continue }
                switch key {
                case "readonly", "ro":
                    m.readOnly = true
                    roAuto = false
                case "readwrite", "rw":
                    m.readOnly = false
                    roAuto = false
                case "required":
                    guard m.type == .secret || m.type == .ssh else {
                        throw MountError("unexpected key '\(key)' for mount type '\(m.type.rawValue)'")
                    }
                    m.required = true
                default:
                    throw MountError("invalid field '\(field)' must be a key=value pair")
                }
                continue
            }
            if let expand {
                do {
                    value = try expand(value)
                } catch {
                    throw MountError(error.message)
                }
            } else if key == "from" {
                if let idx = value.firstIndex(of: "$"), value.index(after: idx) != value.endIndex {
                    throw MountError("'from' doesn't support variable expansion, define alias stage instead")
                }
            } else {
                continue
            }
            switch key {
            case "type":
                guard let t = Kind(rawValue: value.lowercased()) else {
                    var msg = "unsupported mount type \"\(value)\""
                    if let s = Suggest.closest(value, among: Kind.allCases.map(\.rawValue)) { msg += " (did you mean \(s)?)" }
                    throw MountError(msg)
                }
                m.type = t
            case "from": m.from = value
            case "source", "src": m.source = value
            case "target", "dst", "destination": m.target = value
            case "readonly", "ro":
                guard let b = parseBool(value) else { throw MountError("invalid value for \(key): \(value)") }
                m.readOnly = b
                roAuto = false
            case "readwrite", "rw":
                guard let b = parseBool(value) else { throw MountError("invalid value for \(key): \(value)") }
                m.readOnly = !b
                roAuto = false
            case "required":
                guard m.type == .secret || m.type == .ssh else {
                    throw MountError("unexpected key '\(key)' for mount type '\(m.type.rawValue)'")
                }
                guard let b = parseBool(value) else { throw MountError("invalid value for \(key): \(value)") }
                m.required = b
            case "size":
                guard m.type == .tmpfs else {
                    throw MountError("unexpected key '\(key)' for mount type '\(m.type.rawValue)'")
                }
                guard let n = Validation.ramInBytes(value) else { throw MountError("invalid value for \(key): \(value)") }
                m.sizeLimit = n
            case "id": m.id = value
            case "sharing":
                guard let s = Sharing(rawValue: value.lowercased()) else {
                    throw MountError("unsupported sharing value \"\(value)\"")
                }
                m.sharing = s
            case "mode":
                guard let v = UInt32(value, radix: 8) else { throw MountError("invalid value \(value) for mode") }
                m.mode = v
            case "uid":
                guard let v = UInt32(value) else { throw MountError("invalid value \(value) for uid") }
                m.uid = v
            case "gid":
                guard let v = UInt32(value) else { throw MountError("invalid value \(value) for gid") }
                m.gid = v
            case "env": m.env = value
            default:
                let keys = ["type", "from", "source", "target", "readonly", "id", "sharing", "required", "size",
                            "mode", "uid", "gid", "src", "dst", "destination", "ro", "rw", "readwrite", "env"]
                var msg = "unexpected key '\(key)' in '\(field)'"
                if let s = Suggest.closest(key, among: keys) { msg += " (did you mean \(s)?)" }
                throw MountError(msg)
            }
        }
        if expand == nil { return m }
        let fileInfoAllowed = m.type == .secret || m.type == .ssh || m.type == .cache
        if !fileInfoAllowed {
            if m.mode != nil { throw MountError("mode not allowed for \"\(m.type.rawValue)\" type mounts") }
            if m.uid != nil { throw MountError("uid not allowed for \"\(m.type.rawValue)\" type mounts") }
            if m.gid != nil { throw MountError("gid not allowed for \"\(m.type.rawValue)\" type mounts") }
        }
        if roAuto {
            m.readOnly = !(m.type == .cache || m.type == .tmpfs)
        }
        if m.type == .secret {
            if m.from != nil { throw MountError("secret mount should not have a from") }
            if m.sharing != nil { throw MountError("secret mount should not define sharing") }
            if m.source == nil && m.target == nil && m.id == nil {
                throw MountError("invalid secret mount. one of source, target required")
            }
            if m.source != nil && m.id != nil { throw MountError("both source and id can't be set") }
        }
        if m.sharing != nil && m.type != .cache {
            throw MountError("invalid cache sharing set for \(m.type.rawValue) mount")
        }
        return m
    }

    /// Go's `strconv.ParseBool`.
    static func parseBool(_ s: String) -> Bool? {
        switch s {
        case "1", "t", "T", "TRUE", "true", "True": true
        case "0", "f", "F", "FALSE", "false", "False": false
        default: nil
        }
    }

    /// The `from=` value of a mount spec, read without expanding anything (for the stage graph).
    public static func fromField(of spec: String) -> String? {
        guard let fields = Validation.csvFields(spec) else { return nil }
        var from: String?
        for f in fields {
            if let eq = f.firstIndex(of: "="), f[..<eq].lowercased() == "from" {
                from = String(f[f.index(after: eq)...])
            }
        }
        return from
    }
}

/// A `--mount` value is malformed.
public struct MountError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
