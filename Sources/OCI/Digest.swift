import CCrypto
import Foundation

/// A content digest such as `sha256:9f86d08…`. Only sha256 is produced; other algorithms are
/// accepted when parsing so that foreign manifests can at least be read and reported.
public struct Digest: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public let algorithm: String
    public let encoded: String

    public enum ParseError: Error, CustomStringConvertible, Equatable {
        case malformed(String)
        public var description: String {
            switch self {
            case .malformed(let s):
                return "invalid digest '\(s)': expected 'sha256:' followed by 64 lowercase hex digits"
            }
        }
    }

    public init(algorithm: String = "sha256", encoded: String) {
        self.algorithm = algorithm
        self.encoded = encoded
    }

    /// Parses `algorithm:hex`, validating sha256 strictly (64 lowercase hex digits).
    public init(parsing string: String) throws {
        guard let colon = string.firstIndex(of: ":") else { throw ParseError.malformed(string) }
        let algorithm = String(string[..<colon])
        let encoded = String(string[string.index(after: colon)...])
        // The OCI grammar: algorithm `[a-z0-9]+([+._-][a-z0-9]+)*`, encoded `[a-zA-Z0-9=_-]+`.
        // The encoded part becomes a file name under blobs/, so '/' and '.' must never pass.
        guard Self.isAlgorithm(algorithm), !encoded.isEmpty,
              encoded.utf8.allSatisfy({ Self.isAlnum($0) || $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }) else {
            throw ParseError.malformed(string)
        }
        if algorithm == "sha256" {
            guard encoded.utf8.count == 64,
                  encoded.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
                throw ParseError.malformed(string)
            }
        }
        self.init(algorithm: algorithm, encoded: encoded)
    }

    private static func isAlnum(_ b: UInt8) -> Bool {
        (48...57).contains(b) || (65...90).contains(b) || (97...122).contains(b)
    }

    private static func isAlgorithm(_ s: String) -> Bool {
        var previousWasSeparator = true   // also refuses a leading separator
        for b in s.utf8 {
            if (48...57).contains(b) || (97...122).contains(b) {
                previousWasSeparator = false
            } else if "+._-".utf8.contains(b), !previousWasSeparator {
                previousWasSeparator = true
            } else {
                return false
            }
        }
        return !previousWasSeparator
    }

    public var description: String { "\(algorithm):\(encoded)" }

    /// The first 12 hex digits, as `docker images` shows an image id.
    public var short: String { String(encoded.prefix(12)) }

    public static func < (a: Digest, b: Digest) -> Bool { a.description < b.description }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        try self.init(parsing: try c.decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    /// The sha256 digest of in-memory bytes.
    public static func sha256(_ data: Data) -> Digest {
        var hasher = SHA256Hasher()
        hasher.update(data)
        return hasher.finalize()
    }

    public static func sha256(_ string: String) -> Digest { sha256(Data(string.utf8)) }
}

/// Incremental SHA-256 over OpenSSL's libcrypto (uses the CPU's SHA extensions where present).
/// A value type wrapping a C context: copy it only before `finalize`.
public struct SHA256Hasher: ~Copyable {
    private var context = SHA256_CTX()

    public init() {
        SHA256_Init(&context)
    }

    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        SHA256_Update(&context, base, buffer.count)
    }

    public mutating func update(_ data: Data) {
        data.withUnsafeBytes { update($0) }
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Finishes the hash. The hasher must not be used afterwards.
    public consuming func finalize() -> Digest {
        var out = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        SHA256_Final(&out, &context)
        return Digest(algorithm: "sha256", encoded: Self.hex(out))
    }

    /// Lowercase hex of bytes, as digests print them.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var chars = [UInt8]()
        chars.reserveCapacity(bytes.count * 2)
        for b in bytes {
            chars.append(digits[Int(b >> 4)])
            chars.append(digits[Int(b & 0xF)])
        }
        return String(decoding: chars, as: UTF8.self)
    }
}
