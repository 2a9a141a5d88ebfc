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

extension String {
    /// Decodes UTF-8 like Go does when it meets invalid bytes: each byte that does not start
    /// a valid sequence becomes one U+FFFD (Swift would fold a truncated sequence into one).
    init<C: Collection>(goDecoding bytes: C) where C.Element == UInt8 {
        if let valid = String(validating: bytes, as: UTF8.self) {
            self = valid
            return
        }
        let b = Array(bytes)
        var out = ScalarBuffer()
        var i = 0
        while i < b.count {
            let c0 = b[i]
            if c0 < 0x80 {
                out.append(Unicode.Scalar(c0))
                i += 1
                continue
            }
            var need = 0
            var value: UInt32 = 0
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
            switch c0 {
            case 0xC2...0xDF: need = 1; value = UInt32(c0 & 0x1F)
            case 0xE0: need = 2; value = UInt32(c0 & 0x0F); lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: need = 2; value = UInt32(c0 & 0x0F)
            case 0xED: need = 2; value = UInt32(c0 & 0x0F); hi = 0x9F
            case 0xF0: need = 3; value = UInt32(c0 & 0x07); lo = 0x90
            case 0xF1...0xF3: need = 3; value = UInt32(c0 & 0x07)
            case 0xF4: need = 3; value = UInt32(c0 & 0x07); hi = 0x8F
            default: need = -1
            }
            var ok = need > 0 && i + need < b.count
            if ok {
                for k in 1...need {
                    let c = b[i + k]
                    let (l, h) = k == 1 ? (lo, hi) : (UInt8(0x80), UInt8(0xBF))
                    if c < l || c > h { ok = false; break }
                    value = value << 6 | UInt32(c & 0x3F)
                }
            }
            if ok, let s = Unicode.Scalar(value) {
                out.append(s)
                i += need + 1
            } else {
                out.append("\u{FFFD}")
                i += 1
            }
        }
        self = out.string
    }
}
