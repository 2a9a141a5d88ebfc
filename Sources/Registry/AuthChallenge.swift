import Foundation

/// A parsed `WWW-Authenticate` header: the scheme (`Bearer`, `Basic`) and its parameters
/// (`realm`, `service`, `scope`, `error`).
public struct AuthChallenge: Equatable, Sendable {
    public var scheme: String
    public var parameters: [String: String]

    public var realm: String? { parameters["realm"] }
    public var service: String? { parameters["service"] }
    public var scope: String? { parameters["scope"] }

    public var isBearer: Bool { scheme.lowercased() == "bearer" }
    public var isBasic: Bool { scheme.lowercased() == "basic" }

    public init(scheme: String, parameters: [String: String]) {
        self.scheme = scheme
        self.parameters = parameters
    }

    /// Parses one challenge (`Bearer realm="...",service="...",scope="a:b:pull,push"`).
    /// Quoted values may contain commas and backslash escapes. Returns nil for an empty header.
    public init?(header: String) {
        var chars = Substring(header)
        func skipSpaces() { while let c = chars.first, c == " " || c == "\t" { chars.removeFirst() } }
        skipSpaces()
        let scheme = chars.prefix { $0 != " " && $0 != "\t" }
        guard !scheme.isEmpty else { return nil }
        chars.removeFirst(scheme.count)
        var params: [String: String] = [:]
        while true {
            skipSpaces()
            while chars.first == "," { chars.removeFirst(); skipSpaces() }
            guard !chars.isEmpty else { break }
            let key = chars.prefix { $0 != "=" && $0 != "," && $0 != " " }
            chars.removeFirst(key.count)
            skipSpaces()
            guard chars.first == "=" else {
                // A token68 (Basic's credentials form) or a bare flag: skip it.
                continue
            }
            chars.removeFirst()
            skipSpaces()
            var value = ""
            if chars.first == "\"" {
                chars.removeFirst()
                while let c = chars.first {
                    chars.removeFirst()
                    if c == "\\", let next = chars.first { value.append(next); chars.removeFirst(); continue }
                    if c == "\"" { break }
                    value.append(c)
                }
            } else {
                let raw = chars.prefix { $0 != "," }
                chars.removeFirst(raw.count)
                value = raw.trimmingCharacters(in: .whitespaces)
            }
            params[key.lowercased()] = value
        }
        self.init(scheme: String(scheme), parameters: params)
    }
}
