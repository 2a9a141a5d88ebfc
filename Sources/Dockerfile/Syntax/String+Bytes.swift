extension String {
    /// Whether the UTF-8 text contains an ASCII byte (much faster than substring search).
    @inline(__always) func hasByte(_ ascii: Unicode.Scalar) -> Bool {
        utf8.contains(UInt8(ascii.value))
    }

    /// Whether the text contains `<<`.
    func hasHeredocMarker() -> Bool {
        var prev: UInt8 = 0
        for b in utf8 {
            if b == 0x3C && prev == 0x3C { return true }
            prev = b
        }
        return false
    }
}

/// A growable UTF-8 buffer for building strings scalar by scalar (appending to
/// `String.UnicodeScalarView` one scalar at a time is several times slower).
struct ScalarBuffer {
    var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(32)
    }

    @inline(__always) mutating func append(_ s: Unicode.Scalar) {
        if s.value < 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: s.value))
        } else {
            UTF8.encode(s) { bytes.append($0) }
        }
    }

    @inline(__always) mutating func append(_ s: String) {
        bytes.append(contentsOf: s.utf8)
    }

    mutating func append<S: Sequence>(contentsOf seq: S) where S.Element == Unicode.Scalar {
        for s in seq { append(s) }
    }

    var isEmpty: Bool { bytes.isEmpty }

    var string: String { String(decoding: bytes, as: UTF8.self) }

    mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }
}
