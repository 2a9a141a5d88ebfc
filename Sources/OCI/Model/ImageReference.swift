/// An image reference such as `alpine`, `ghcr.io/org/app:1.2` or `repo@sha256:…`, normalised the
/// way Docker does (`alpine` → `docker.io/library/alpine:latest`). The grammar is that of
/// distribution/reference: lowercase path components joined by `.`, `_`, `__` or dashes, an
/// optional registry host with port, a tag of at most 128 word characters, and a digest.
public struct ImageReference: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Registry host, with port when given: `docker.io`, `localhost:5000`.
    public let domain: String
    /// Repository path inside the registry: `library/alpine`.
    public let path: String
    public var tag: String?
    public var digest: Digest?

    public static let defaultDomain = "docker.io"
    public static let defaultTag = "latest"
    static let maxNameLength = 255

    public enum ParseError: Error, CustomStringConvertible, Equatable {
        case empty
        case invalid(String, reason: String)

        public var description: String {
            switch self {
            case .empty: return "invalid reference format: the reference is empty"
            case .invalid(let s, let reason): return "invalid reference format '\(s)': \(reason)"
            }
        }
    }

    public init(domain: String, path: String, tag: String? = nil, digest: Digest? = nil) {
        self.domain = domain
        self.path = path
        self.tag = tag
        self.digest = digest
    }

    /// Parses and normalises a reference. With `defaultTag`, a reference with neither tag nor
    /// digest gets `:latest`.
    public init(parsing string: String, defaultTag: Bool = true) throws {
        func fail(_ reason: String) -> ParseError { .invalid(string, reason: reason) }
        guard !string.isEmpty else { throw ParseError.empty }
        if string.utf8.count == 64, string.utf8.allSatisfy(Self.isLowerHex) {
            throw fail("a 64-character hexadecimal string is an image ID, not a repository name")
        }
        var rest = Substring(string)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            let d = rest[rest.index(after: at)...]
            guard Self.validDigestSyntax(d) else {
                throw fail("digest '\(d)' is malformed (expected ALGORITHM:HEX, e.g. sha256: and 64 hex digits)")
            }
            do { digest = try Digest(parsing: String(d)) } catch {
                throw fail("digest '\(d)' is malformed (sha256 needs 64 lowercase hex digits)")
            }
            rest = rest[..<at]
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            let t = rest[rest.index(after: colon)...]
            guard Self.validTag(t) else {
                throw fail("tag '\(t)' is invalid (1 to 128 of letters, digits, '_', '.', '-', not starting with '.' or '-')")
            }
            tag = String(t)
            rest = rest[..<colon]
        }
        guard !rest.isEmpty else { throw fail("the repository name is missing") }

        // Docker's domain rule: the first component is a registry host when it contains '.' or
        // ':', is 'localhost', or has uppercase letters; otherwise the image is on Docker Hub.
        var domain = Self.defaultDomain
        var remainder = rest
        if let slash = rest.firstIndex(of: "/") {
            let first = rest[..<slash]
            if first.contains(".") || first.contains(":") || first == "localhost" || first.lowercased() != first {
                domain = String(first)
                remainder = rest[rest.index(after: slash)...]
            }
        }
        if domain == "index.docker.io" { domain = Self.defaultDomain }
        guard Self.validDomain(Substring(domain)) else {
            throw fail("registry host '\(domain)' is invalid")
        }
        if remainder.lowercased() != remainder {
            throw fail("repository name '\(remainder)' must be lowercase")
        }
        var path = String(remainder)
        if domain == Self.defaultDomain, !path.contains("/") { path = "library/" + path }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            guard Self.validPathComponent(component) else {
                throw fail(component.isEmpty
                    ? "repository name '\(remainder)' has an empty path component"
                    : "path component '\(component)' is invalid (lowercase letters and digits, separated by '.', '_', '__' or '-')")
            }
        }
        guard domain.utf8.count + 1 + path.utf8.count <= Self.maxNameLength else {
            throw fail("repository name must not be more than \(Self.maxNameLength) characters")
        }
        if defaultTag, tag == nil, digest == nil { tag = Self.defaultTag }
        self.init(domain: domain, path: path, tag: tag, digest: digest)
    }

    /// `docker.io/library/alpine`.
    public var repository: String { "\(domain)/\(path)" }

    /// The short form Docker prints: `alpine`, `user/app`, `ghcr.io/org/app`.
    public var familiarRepository: String {
        guard domain == Self.defaultDomain else { return repository }
        if path.hasPrefix("library/"), path.split(separator: "/").count == 2 { return String(path.dropFirst(8)) }
        return path
    }

    /// Full normalised form: `docker.io/library/alpine:latest`, `…@sha256:…`.
    public var description: String {
        repository + (tag.map { ":\($0)" } ?? "") + (digest.map { "@\($0)" } ?? "")
    }

    /// Short form: `alpine:latest`.
    public var familiar: String {
        familiarRepository + (tag.map { ":\($0)" } ?? "") + (digest.map { "@\($0)" } ?? "")
    }

    public func with(tag: String?) -> ImageReference {
        ImageReference(domain: domain, path: path, tag: tag, digest: digest)
    }

    public func with(digest: Digest?) -> ImageReference {
        ImageReference(domain: domain, path: path, tag: tag, digest: digest)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        try self.init(parsing: try c.decode(String.self), defaultTag: false)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    // MARK: grammar

    static func isLowerHex(_ c: UInt8) -> Bool { (48...57).contains(c) || (97...102).contains(c) }
    static func isLowerAlnum(_ c: UInt8) -> Bool { (48...57).contains(c) || (97...122).contains(c) }
    static func isAlnum(_ c: UInt8) -> Bool { isLowerAlnum(c) || (65...90).contains(c) }
    static func isWord(_ c: UInt8) -> Bool { isAlnum(c) || c == UInt8(ascii: "_") }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
    static func validPathComponent(_ s: Substring) -> Bool {
        let b = Array(s.utf8)
        guard let first = b.first, let last = b.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        var i = 0
        while i < b.count {
            if isLowerAlnum(b[i]) { i += 1; continue }
            // A separator run between alphanumerics.
            var j = i
            while j < b.count, !isLowerAlnum(b[j]) { j += 1 }
            let sep = b[i..<j]
            let ok = sep.elementsEqual([UInt8(ascii: ".")]) || sep.elementsEqual([UInt8(ascii: "_")])
                || sep.elementsEqual([UInt8(ascii: "_"), UInt8(ascii: "_")]) || sep.allSatisfy { $0 == UInt8(ascii: "-") }
            guard ok else { return false }
            i = j
        }
        return true
    }

    /// `[\w][\w.-]{0,127}`
    static func validTag(_ s: Substring) -> Bool {
        let b = Array(s.utf8)
        guard let first = b.first, isWord(first), b.count <= 128 else { return false }
        return b.allSatisfy { isWord($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// host[:port] where host is dot-joined `[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?` or `[IPv6]`.
    static func validDomain(_ s: Substring) -> Bool {
        var host = s
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { return false }
            let inner = s[s.index(after: s.startIndex)..<close]
            guard !inner.isEmpty, inner.utf8.allSatisfy({ isHex($0) || $0 == UInt8(ascii: ":") }) else { return false }
            let after = s[s.index(after: close)...]
            if after.isEmpty { return true }
            guard after.first == ":" else { return false }
            return validPort(after.dropFirst())
        }
        if let colon = s.lastIndex(of: ":") {
            guard validPort(s[s.index(after: colon)...]) else { return false }
            host = s[..<colon]
        }
        return !host.isEmpty && host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
            let b = Array(part.utf8)
            guard let f = b.first, let l = b.last, isAlnum(f), isAlnum(l) else { return false }
            return b.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") }
        }
    }

    static func isHex(_ c: UInt8) -> Bool { isLowerHex(c) || (65...70).contains(c) }

    static func validPort(_ s: Substring) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { (48...57).contains($0) }
    }

    /// `[A-Za-z][A-Za-z0-9]*([+._-][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
    static func validDigestSyntax(_ s: Substring) -> Bool {
        guard let colon = s.firstIndex(of: ":") else { return false }
        let alg = s[..<colon], hex = s[s.index(after: colon)...]
        guard hex.utf8.count >= 32, hex.utf8.allSatisfy(isHex) else { return false }
        let comps = alg.split(omittingEmptySubsequences: false) { "+._-".contains($0) }
        return comps.allSatisfy { c in
            guard let f = c.utf8.first, (65...90).contains(f) || (97...122).contains(f) else { return false }
            return c.utf8.allSatisfy(isAlnum)
        }
    }
}
