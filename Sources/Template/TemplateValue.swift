import Foundation

/// The data a template reads: what an `Encodable` row or document becomes (through its JSON
/// form), plus `missing` for a field that is not there (printed as Go prints a missing map
/// key, `<no value>`).
public indirect enum TemplateValue: Sendable, Equatable {
    case null
    case missing
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([TemplateValue])
    case object([String: TemplateValue])

    /// `value` as a template sees it: the fields of its JSON encoding.
    public static func of<T: Encodable>(_ value: T) throws -> TemplateValue {
        try JSONDecoder().decode(TemplateValue.self, from: JSONEncoder().encode(value))
    }

    /// Go's truth: false, 0, "", an empty list or map, nil and a missing value are false.
    var isTrue: Bool {
        switch self {
        case .null, .missing: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return !o.isEmpty
        }
    }

    /// Go's `%v`: `[a b]` for lists, `map[k:v]` for maps (keys sorted), `<no value>` when missing.
    public var printed: String {
        switch self {
        case .null: return "<nil>"
        case .missing: return "<no value>"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return d == d.rounded() && abs(d) < 1e21 ? String(Int64(d)) : String(d)
        case .string(let s): return s
        case .array(let a): return "[" + a.map(\.printed).joined(separator: " ") + "]"
        case .object(let o): return "map[" + o.keys.sorted().map { "\($0):\(o[$0]!.printed)" }.joined(separator: " ") + "]"
        }
    }

    /// Docker's `json` function: compact JSON without HTML escaping (keys sorted).
    public var json: String {
        switch self {
        case .null, .missing: return "null"
        case .bool, .int, .double: return printed
        case .string(let s): return Self.quoted(s)
        case .array(let a): return "[" + a.map(\.json).joined(separator: ",") + "]"
        case .object(let o): return "{" + o.keys.sorted().map { Self.quoted($0) + ":" + o[$0]!.json }.joined(separator: ",") + "}"
        }
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

extension TemplateValue: Decodable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([TemplateValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: TemplateValue].self)) }
    }
}
