/// Value checks BuildKit applies to flags and arguments (durations, ports, modes, sizes).
public enum Validation {
    /// Go's `time.ParseDuration`, in nanoseconds. nil when malformed.
    public static func parseDuration(_ text: String) -> Int64? {
        var s = Substring(text)
        var negative = false
        if let f = s.first, f == "-" || f == "+" {
            negative = f == "-"
            s = s.dropFirst()
        }
        if s == "0" { return 0 }
        if s.isEmpty { return nil }
        var total: Double = 0
        while !s.isEmpty {
            var intPart = ""
            while let c = s.first, c.isASCII, c.isNumber { intPart.append(c); s = s.dropFirst() }
            var fracPart = ""
            if s.first == "." {
                s = s.dropFirst()
                while let c = s.first, c.isASCII, c.isNumber { fracPart.append(c); s = s.dropFirst() }
            }
            if intPart.isEmpty && fracPart.isEmpty { return nil }
            var unit = ""
            while let c = s.first, c != ".", !(c.isASCII && c.isNumber) { unit.append(c); s = s.dropFirst() }
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs", "μs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m": scale = 60e9
            case "h": scale = 3600e9
            default: return nil
            }
            guard let v = Double((intPart.isEmpty ? "0" : intPart) + "." + (fracPart.isEmpty ? "0" : fracPart)) else { return nil }
            total += v * scale
            if total > Double(Int64.max) { return nil }
        }
        let ns = Int64(total)
        return negative ? -ns : ns
    }

    /// A HEALTHCHECK interval: empty or 0 → nil; otherwise at least 1ms.
    static func healthInterval(_ value: String?, flag: String) -> Result<Int64?, ValidationFailure> {
        guard let value, !value.isEmpty else { return .success(nil) }
        guard let d = parseDuration(value) else {
            return .failure(ValidationFailure("time: invalid duration \"\(value)\" for --\(flag)"))
        }
        if d == 0 { return .success(nil) }
        if d < 1_000_000 {
            return .failure(ValidationFailure("Interval \"\(flag)\" cannot be less than 1ms"))
        }
        return .success(d)
    }

    /// `--chmod`: an octal mode up to 07777 or a symbolic mode (`u+x,g-w`).
    public static func checkChmod(_ value: String) -> String? {
        let msg = "invalid chmod parameter: '\(value)'. it should be octal string and between 0 and 07777"
        if value.isEmpty { return msg }
        if value.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let v = UInt32(value, radix: 8), v <= 0o7777 else { return msg }
            return nil
        }
        // symbolic: [ugoa]*([-+=]([rwxXst]*|[ugo]))+ separated by commas
        for clause in value.split(separator: ",", omittingEmptySubsequences: false) {
            var c = Substring(clause)
            while let f = c.first, "ugoa".contains(f) { c = c.dropFirst() }
            guard let op = c.first, "+-=".contains(op) else { return "invalid chmod parameter: '\(value)'" }
            while let op = c.first, "+-=".contains(op) {
                c = c.dropFirst()
                if let f = c.first, "ugo".contains(f) {
                    c = c.dropFirst()
                } else {
                    while let f = c.first, "rwxXst".contains(f) { c = c.dropFirst() }
                }
            }
            if !c.isEmpty { return "invalid chmod parameter: '\(value)'" }
        }
        return nil
    }

    /// `ADD --checksum` needs exactly one HTTP(S) or Git source.
    public static func checkChecksumSources(_ sources: [String]) -> String? {
        if sources.count != 1 { return "checksum can't be specified for multiple sources" }
        let s = sources[0]
        if s.hasByte("$") { return nil }  // checked again after expansion
        let remote = ["http://", "https://", "git@", "git://", "ssh://"].contains { s.hasPrefix($0) }
        return remote ? nil : "checksum requires HTTP(S) or Git sources"
    }

    /// An EXPOSE port spec: `[ip:][hostPort:]port[-end][/proto]`. Returns the error, if any.
    public static func checkPort(_ raw: String) -> String? {
        // split off ip and host port
        var rest = Substring(raw)
        var parts: [Substring] = []
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            parts.append(rest[...close])
            rest = rest[rest.index(after: close)...]
            if rest.hasPrefix(":") { rest = rest.dropFirst() }
        }
        parts.append(contentsOf: rest.split(separator: ":", omittingEmptySubsequences: false))
        let container = parts.last ?? ""
        let host = parts.count >= 2 ? parts[parts.count - 2] : nil
        let portPart: Substring
        if let slash = container.firstIndex(of: "/") {
            portPart = container[..<slash]
            let proto = container[container.index(after: slash)...].lowercased()
            if !["tcp", "udp", "sctp"].contains(proto) {
                return "invalid port: \"\(raw)\": invalid proto: \(proto)"
            }
        } else {
            portPart = container
        }
        if portPart.isEmpty { return "invalid port: \"\(raw)\": no port specified" }
        if let err = checkPortRange(portPart) { return "invalid containerPort: \(portPart) (\(err))" }
        if let host, !host.isEmpty, let err = checkPortRange(host) { return "invalid hostPort: \(host) (\(err))" }
        return nil
    }

    static func checkPortRange(_ s: Substring) -> String? {
        let bounds = s.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        var nums: [Int] = []
        for b in bounds {
            guard !b.isEmpty, let n = Int(b) else { return "not a number" }
            guard n >= 0 && n <= 65535 else { return "value out of range (0–65535)" }
            nums.append(n)
        }
        if nums.count == 2 && nums[1] < nums[0] { return "invalid port range" }
        return nil
    }

    /// docker/go-units `RAMInBytes` (binary multipliers: 64m = 64 MiB).
    public static func ramInBytes(_ s: String) -> Int64? {
        var num = ""
        var rest = Substring(s)
        while let c = rest.first, c.isASCII, c.isNumber || c == "." { num.append(c); rest = rest.dropFirst() }
        guard let v = Double(num), !num.hasSuffix(".") else { return nil }
        if rest.first == " " { rest = rest.dropFirst() }
        var unit = rest.lowercased()
        if unit.hasSuffix("b") { unit.removeLast() }
        if unit.hasSuffix("i") { unit.removeLast() }
        let mult: Double
        switch unit {
        case "": mult = 1
        case "k": mult = 1024
        case "m": mult = 1024 * 1024
        case "g": mult = 1024 * 1024 * 1024
        case "t": mult = 1024 * 1024 * 1024 * 1024
        case "p": mult = 1024 * 1024 * 1024 * 1024 * 1024
        default: return nil
        }
        let total = v * mult
        guard total < Double(Int64.max) else { return nil }
        return Int64(total)
    }

    /// One CSV record (the `--mount` syntax): commas separate, `"..."` quotes with `""` escapes.
    static func csvFields(_ s: String) -> [String]? {
        let b = Array(s.utf8)
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ",")
        var out: [String] = []
        var field: [UInt8] = []
        var i = 0
        var fieldStart = true
        var inQuotes = false
        var wasQuoted = false
        while i < b.count {
            let c = b[i]
            i += 1
            if inQuotes {
                if c == quote {
                    if i < b.count, b[i] == quote {
                        field.append(quote)
                        i += 1
                        continue
                    }
                    inQuotes = false
                } else {
                    field.append(c)
                }
            } else if c == comma {
                out.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
                fieldStart = true
                wasQuoted = false
                continue
            } else if c == quote {
                guard fieldStart else { return nil }  // bare quote in a non-quoted field
                inQuotes = true
                wasQuoted = true
            } else {
                if wasQuoted { return nil }  // text after a closing quote
                field.append(c)
            }
            fieldStart = false
        }
        if inQuotes { return nil }
        out.append(String(decoding: field, as: UTF8.self))
        return out
    }
}

struct ValidationFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
