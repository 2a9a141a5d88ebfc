/// Validation of an instruction's `--flags` against the flags it accepts (BuildKit's BFlags):
/// unknown flags, duplicates, missing values and non-boolean values are errors.
struct BuilderFlags {
    enum FlagType { case bool, string, strings }

    private(set) var types: [String: FlagType] = [:]
    private(set) var order: [String] = []
    private(set) var bools: [String: Bool] = [:]
    private(set) var strings: [String: String] = [:]
    private(set) var lists: [String: [String]] = [:]
    private(set) var used: Set<String> = []

    init(_ spec: [(String, FlagType)]) {
        for (name, type) in spec {
            types[name] = type
            order.append(name)
        }
    }

    /// Parses `args` (`--name=value` / `--name`); the error message is BuildKit's.
    mutating func parse(_ args: [String]) -> String? {
        for a in args {
            if a == "--" { return nil }
            guard a.hasPrefix("--") else { return "arg should start with -- : \(a)" }
            let body = a.dropFirst(2)
            let name: String
            let value: String?
            if let eq = body.firstIndex(of: "=") {
                name = String(body[..<eq])
                value = String(body[body.index(after: eq)...])
            } else {
                name = String(body)
                value = nil
            }
            guard let type = types[name] else {
                var msg = "unknown flag: --\(name)"
                if let s = Suggest.closest(name, among: order) { msg += " (did you mean --\(s)?)" }
                if order.isEmpty { msg += " (this instruction takes no flags)" }
                return msg
            }
            if used.contains(name) && type != .strings {
                return "duplicate flag specified: --\(name)"
            }
            used.insert(name)
            switch type {
            case .bool:
                if let value, value.isEmpty { return "missing a value on flag: --\(name)" }
                switch (value ?? "").lowercased() {
                case "true", "": bools[name] = true
                case "false": bools[name] = false
                default: return "expecting boolean value for flag --\(name), not: \(value ?? "")"
                }
            case .string:
                guard let value else { return "missing a value on flag: --\(name)" }
                strings[name] = value
            case .strings:
                guard let value else { return "missing a value on flag: --\(name)" }
                lists[name, default: []].append(value)
            }
        }
        return nil
    }

    func string(_ name: String) -> String? { strings[name] }
    func bool(_ name: String) -> Bool { bools[name] ?? false }
    func optionalBool(_ name: String) -> Bool? { bools[name] }
    func list(_ name: String) -> [String] { lists[name] ?? [] }
}

/// "Did you mean ...?" suggestions by edit distance: the one Levenshtein distance (the CLI's
/// unknown-command hint uses it too).
public enum Suggest {
    static func closest(_ word: String, among options: [String]) -> String? {
        let w = Array(word.lowercased())
        var best: (String, Int)?
        for o in options {
            let d = distance(w, Array(o.lowercased()))
            let limit = max(1, min(w.count, o.count) / 3 + 1)
            if d <= limit, best == nil || d < best!.1 { best = (o, d) }
        }
        return best?.0
    }

    /// Levenshtein distance (insertions, deletions, substitutions).
    public static func distance(_ a: String, _ b: String) -> Int { distance(Array(a), Array(b)) }

    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        var cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }
}
