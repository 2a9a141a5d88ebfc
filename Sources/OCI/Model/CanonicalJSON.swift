import Foundation

/// The one JSON encoding Slipway writes: keys sorted, `/` not escaped, no whitespace. Every
/// manifest, index and config Slipway creates goes through `encode`, so equal values give equal
/// bytes and so equal digests. Content read from elsewhere is kept as its original bytes.
public enum CanonicalJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try e.encode(value))
    }

    /// Indented form for people (`inspect`); still sorted so output is stable.
    public static func pretty<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }

    /// Encodes and returns the bytes with their descriptor, ready to be stored as a blob.
    public static func blob<T: Encodable>(_ value: T, mediaType: String) throws -> (bytes: [UInt8], descriptor: Descriptor) {
        let bytes = try encode(value)
        let digest = bytes.withUnsafeBytes { raw -> Digest in
            var h = SHA256Hasher()
            h.update(raw)
            return h.finalize()
        }
        return (bytes, Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count)))
    }

    /// A one-line explanation of a decoding error: the JSON path and what was wrong there.
    public static func describe(_ error: Error) -> String {
        func path(_ keys: [CodingKey]) -> String {
            let p = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return p.isEmpty ? "top level" : String(p.drop { $0 == "." })
        }
        guard let e = error as? DecodingError else { return "\(error)" }
        switch e {
        case .dataCorrupted(let c):
            return c.codingPath.isEmpty ? "malformed JSON" : "\(path(c.codingPath)): \(c.debugDescription)"
        case .keyNotFound(let key, let c): return "missing field '\(path(c.codingPath + [key]))'"
        case .typeMismatch(_, let c): return "\(path(c.codingPath)): \(c.debugDescription)"
        case .valueNotFound(_, let c): return "\(path(c.codingPath)): value missing"
        @unknown default: return "\(e)"
        }
    }
}
