import Foundation

/// Iterates a tar stream's entries: ustar, POSIX PAX (`x` and `g` headers), GNU long names
/// (`L`/`K`) and old-GNU headers. Reading is streaming: only one header (plus its extension
/// records, capped at 8 MiB) is held in memory. A stream that ends inside a header or inside an
/// entry's data raises `ArchiveError.truncated` naming the entry.
public final class TarReader {
    private let source: ByteSource
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var sourceEOF = false
    /// Offset in the stream of the next unread byte.
    public private(set) var offset: Int64 = 0
    private var remaining: Int64 = 0
    private var pad: Int64 = 0
    private var current: TarEntry?
    private var globalPax: [String: [UInt8]] = [:]
    private var reachedEnd = false

    static let maxExtensionSize = 8 << 20
    static let maxEntrySize: Int64 = 1 << 62

    public init(source: ByteSource) {
        self.source = source
        self.buffer = .allocate(byteCount: 1 << 20, alignment: 4096)
    }

    deinit { buffer.deallocate() }

    /// The next entry, or nil at the end of the archive. Unread data of the previous entry
    /// is skipped.
    public func next() throws -> TarEntry? {
        if reachedEnd { return nil }
        try skipRest()
        current = nil
        var pax: [String: [UInt8]] = [:]
        var longName: String?
        var longLink: String?
        while true {
            let headerOffset = offset
            guard let header = try readBlock(context: current?.path ?? longName) else {
                if headerOffset == 0 { reachedEnd = true; return nil }   // empty stream
                throw ArchiveError.truncated(entry: nil, detail: "the archive ends without its end-of-archive marker at byte \(headerOffset)")
            }
            if header.allSatisfy({ $0 == 0 }) {
                // End of archive: a second zero block should follow; accept its absence.
                _ = try readBlock(context: nil, allowShort: true)
                reachedEnd = true
                return nil
            }
            try verifyChecksum(header, at: headerOffset)
            let typeflag = header[156]
            let size = try Self.number(header, 124, 12, field: "size", at: headerOffset)
            guard size >= 0 else { throw ArchiveError.badHeader(offset: headerOffset, detail: "negative size") }
            let magic = Array(header[257..<263])
            let isUstar = magic == Array("ustar\u{0}".utf8)
            var name = Self.string(header, 0, 100)
            if isUstar {
                let prefix = Self.string(header, 345, 155)
                if !prefix.isEmpty { name = prefix + "/" + name }
            }
            switch typeflag {
            case UInt8(ascii: "x"), UInt8(ascii: "g"):
                let body = try readExtension(size: size, name: name)
                let records = try Self.parsePax(body, entry: name)
                if typeflag == UInt8(ascii: "g") {
                    // Per-file keys in a global header would rename or resize every entry;
                    // like Go's archive/tar, keep only the ones that can sensibly be shared.
                    var shared = records
                    for key in ["path", "linkpath", "size"] { shared[key] = nil }
                    globalPax.merge(shared) { $1 }
                } else {
                    pax.merge(records) { $1 }
                }
                continue
            case UInt8(ascii: "L"):
                longName = Self.cString(try readExtension(size: size, name: name))
                continue
            case UInt8(ascii: "K"):
                longLink = Self.cString(try readExtension(size: size, name: name))
                continue
            default:
                break
            }
            let fields = globalPax.merging(pax) { $1 }
            var entry = TarEntry(path: name, kind: Self.kind(typeflag))
            entry.mode = UInt32(truncatingIfNeeded: try Self.number(header, 100, 8, field: "mode", at: headerOffset)) & 0o7777
            entry.uid = Int(try Self.number(header, 108, 8, field: "uid", at: headerOffset))
            entry.gid = Int(try Self.number(header, 116, 8, field: "gid", at: headerOffset))
            entry.size = size
            entry.mtime = try Self.number(header, 136, 12, field: "mtime", at: headerOffset)
            entry.linkName = Self.string(header, 157, 100)
            if isUstar || magic == Array("ustar ".utf8) {
                if entry.kind == .characterDevice || entry.kind == .blockDevice {
                    entry.deviceMajor = UInt32(truncatingIfNeeded: try Self.number(header, 329, 8, field: "devmajor", at: headerOffset))
                    entry.deviceMinor = UInt32(truncatingIfNeeded: try Self.number(header, 337, 8, field: "devminor", at: headerOffset))
                }
            }
            if let longName { entry.path = longName }
            if let longLink { entry.linkName = longLink }
            try apply(fields, to: &entry, at: headerOffset)
            // Old tars mark directories only by a trailing slash on a regular entry.
            if entry.kind == .regular && entry.path.hasSuffix("/") { entry.kind = .directory }
            entry.path = Self.normalize(entry.path)
            // Like Go's archive/tar, header-only types carry no data whatever their size says.
            switch entry.kind {
            case .regular, .other: break
            case .directory, .hardlink, .symlink, .characterDevice, .blockDevice, .fifo: entry.size = 0
            }
            // A size near Int64.max (PAX or base-256) would overflow the padding arithmetic;
            // no real entry comes close to 2^62 bytes.
            guard entry.size <= Self.maxEntrySize else {
                throw ArchiveError.badHeader(offset: headerOffset, detail: "entry '\(entry.path)' claims an impossible size of \(entry.size) bytes")
            }
            remaining = entry.size
            pad = (512 - entry.size % 512) % 512
            current = entry
            return entry
        }
    }

    /// Reads the current entry's data; returns 0 when it is exhausted.
    public func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        guard remaining > 0, out.count > 0 else { return 0 }
        if start == end { try fill(context: current?.path) }
        let n = min(Int(min(remaining, Int64(Int.max))), out.count, end - start)
        out.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: n)
        start += n
        offset += Int64(n)
        remaining -= Int64(n)
        return n
    }

    /// Hands the current entry's data to `body` in chunks, without copying.
    public func forEachChunk(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        while remaining > 0 {
            if start == end { try fill(context: current?.path) }
            let n = min(Int(min(remaining, Int64(Int.max))), end - start)
            try body(UnsafeRawBufferPointer(start: buffer.baseAddress! + start, count: n))
            start += n
            offset += Int64(n)
            remaining -= Int64(n)
        }
    }

    /// Reads the current entry's data into memory (capped).
    public func readData(limit: Int = 64 << 20) throws -> [UInt8] {
        guard remaining <= Int64(limit) else {
            throw ArchiveError.unsupported(entry: current?.path ?? "?", detail: "entry is larger than \(limit) bytes")
        }
        var out = [UInt8]()
        out.reserveCapacity(Int(remaining))
        try forEachChunk { out.append(contentsOf: $0) }
        return out
    }

    // MARK: - internals

    private func skipRest() throws {
        var left = remaining + pad
        while left > 0 {
            if start == end { try fill(context: current?.path) }
            let n = Int(min(left, Int64(end - start)))
            start += n
            offset += Int64(n)
            left -= Int64(n)
        }
        remaining = 0
        pad = 0
    }

    /// Refills the buffer; throws `truncated` at end of input.
    private func fill(context: String?) throws {
        if try !refill() {
            throw ArchiveError.truncated(entry: context, detail: "input ended at byte \(offset) inside the entry's data")
        }
    }

    /// Reads more input; false at end of stream.
    private func refill() throws -> Bool {
        if start == end { start = 0; end = 0 }
        if sourceEOF { return false }
        if start > 0 && end == buffer.count {
            let live = end - start
            buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: live)
            start = 0
            end = live
        }
        let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
        if n == 0 { sourceEOF = true; return false }
        end += n
        return true
    }

    /// One 512-byte block; nil at a clean end of input, `truncated` inside a block.
    private func readBlock(context: String?, allowShort: Bool = false) throws -> [UInt8]? {
        while end - start < 512 {
            if try !refill() {
                if start == end || allowShort { return nil }
                throw ArchiveError.truncated(entry: context, detail: "input ended at byte \(offset + Int64(end - start)) inside a 512-byte header block")
            }
        }
        let block = Array(UnsafeRawBufferPointer(start: buffer.baseAddress! + start, count: 512))
        start += 512
        offset += 512
        return block
    }

    private func readExtension(size: Int64, name: String) throws -> [UInt8] {
        guard size <= Int64(Self.maxExtensionSize) else {
            throw ArchiveError.unsupported(entry: name, detail: "extended header of \(size) bytes is larger than the 8 MiB limit")
        }
        var out = [UInt8]()
        var left = Int(size)
        while left > 0 {
            if start == end { try fill(context: name) }
            let n = min(left, end - start)
            out.append(contentsOf: UnsafeRawBufferPointer(start: buffer.baseAddress! + start, count: n))
            start += n
            offset += Int64(n)
            left -= n
        }
        var padding = Int((512 - size % 512) % 512)
        while padding > 0 {
            if start == end { try fill(context: name) }
            let n = min(padding, end - start)
            start += n
            offset += Int64(n)
            padding -= n
        }
        return out
    }

    private func verifyChecksum(_ h: [UInt8], at offset: Int64) throws {
        let stored = try Self.number(h, 148, 8, field: "checksum", at: offset)
        var unsigned: Int64 = 0
        var signed: Int64 = 0
        for i in 0..<512 {
            let b = (148..<156).contains(i) ? UInt8(0x20) : h[i]
            unsigned += Int64(b)
            signed += Int64(Int8(bitPattern: b))
        }
        if stored != unsigned && stored != signed {
            throw ArchiveError.badHeader(offset: offset, detail: "checksum mismatch (not a tar archive, or corrupt)")
        }
    }

    private func apply(_ fields: [String: [UInt8]], to entry: inout TarEntry, at offset: Int64) throws {
        for (key, value) in fields {
            let text = String(decoding: value, as: UTF8.self)
            switch key {
            case "path": entry.path = text
            case "linkpath": entry.linkName = text
            case "size":
                guard let v = Int64(text), v >= 0 else { throw ArchiveError.unsupported(entry: entry.path, detail: "invalid PAX size '\(text)'") }
                entry.size = v
            case "uid":
                guard let v = Int(text) else { throw ArchiveError.unsupported(entry: entry.path, detail: "invalid PAX uid '\(text)'") }
                entry.uid = v
            case "gid":
                guard let v = Int(text) else { throw ArchiveError.unsupported(entry: entry.path, detail: "invalid PAX gid '\(text)'") }
                entry.gid = v
            case "mtime":
                let parts = text.split(separator: ".", maxSplits: 1)
                guard let first = parts.first, let secs = Int64(first) else {
                    throw ArchiveError.unsupported(entry: entry.path, detail: "invalid PAX mtime '\(text)'")
                }
                entry.mtime = secs
                if parts.count == 2 {
                    let frac = String(parts[1].prefix(9)).padding(toLength: 9, withPad: "0", startingAt: 0)
                    let ns = Int32(frac) ?? 0
                    entry.mtimeNanoseconds = secs < 0 && ns > 0 ? 1_000_000_000 - ns : ns
                    if secs < 0 && ns > 0 { entry.mtime -= 1 }
                }
            default:
                if key.hasPrefix("SCHILY.xattr.") {
                    entry.xattrs[String(key.dropFirst("SCHILY.xattr.".count))] = value
                } else if key.hasPrefix("LIBARCHIVE.xattr.") {
                    let name = String(key.dropFirst("LIBARCHIVE.xattr.".count)).removingPercentEncoding ?? ""
                    if let data = Data(base64Encoded: Self.padBase64(text)) { entry.xattrs[name] = [UInt8](data) }
                } else if key.hasPrefix("GNU.sparse.") {
                    throw ArchiveError.unsupported(entry: entry.path, detail: "GNU sparse files are not supported")
                }
            }
        }
    }

    static func padBase64(_ s: String) -> String {
        let r = s.count % 4
        return r == 0 ? s : s + String(repeating: "=", count: 4 - r)
    }

    static func kind(_ flag: UInt8) -> TarEntry.Kind {
        switch flag {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): return .regular
        case UInt8(ascii: "1"): return .hardlink
        case UInt8(ascii: "2"): return .symlink
        case UInt8(ascii: "3"): return .characterDevice
        case UInt8(ascii: "4"): return .blockDevice
        case UInt8(ascii: "5"): return .directory
        case UInt8(ascii: "6"): return .fifo
        default: return .other(flag)
        }
    }

    /// Strips "./" and trailing slashes so that paths compare equal however they were written.
    static func normalize(_ path: String) -> String {
        var p = Substring(path)
        while p.hasPrefix("./") { p = p.dropFirst(2) }
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        if p == "." { return "" }
        return String(p)
    }

    static func string(_ h: [UInt8], _ offset: Int, _ size: Int) -> String {
        var endIndex = offset
        while endIndex < offset + size && h[endIndex] != 0 { endIndex += 1 }
        return String(decoding: h[offset..<endIndex], as: UTF8.self)
    }

    static func cString(_ bytes: [UInt8]) -> String {
        let cut = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[0..<cut], as: UTF8.self)
    }

    /// Parses an octal field (space/NUL padded) or a GNU base-256 field (high bit set).
    static func number(_ h: [UInt8], _ offset: Int, _ size: Int, field: String, at headerOffset: Int64) throws -> Int64 {
        if h[offset] & 0x80 != 0 {
            // base-256, two's complement; the first byte's top bit is the marker.
            var v: Int64 = (h[offset] & 0x40) != 0 ? -1 : 0
            v = (v << 6) | Int64(h[offset] & 0x3f)
            for i in (offset + 1)..<(offset + size) {
                guard v.magnitude < (UInt64(1) << 55) else {
                    throw ArchiveError.badHeader(offset: headerOffset, detail: "\(field) field overflows")
                }
                v = (v << 8) | Int64(h[i])
            }
            return v
        }
        var v: Int64 = 0
        var seenDigit = false
        for i in offset..<(offset + size) {
            let b = h[i]
            if b == 0 || (b == 0x20 && seenDigit) { break }
            if b == 0x20 { continue }
            guard b >= 0x30 && b <= 0x37 else {
                throw ArchiveError.badHeader(offset: headerOffset, detail: "\(field) field is not octal")
            }
            guard v < (Int64(1) << 60) else {
                throw ArchiveError.badHeader(offset: headerOffset, detail: "\(field) field overflows")
            }
            v = v * 8 + Int64(b - 0x30)
            seenDigit = true
        }
        return v
    }

    static func parsePax(_ body: [UInt8], entry: String) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        var i = 0
        while i < body.count {
            if body[i] == 0 { break }   // some writers pad with NULs
            var j = i
            var len = 0
            while j < body.count && body[j] >= 0x30 && body[j] <= 0x39 {
                len = len * 10 + Int(body[j] - 0x30)
                j += 1
                if len > body.count { break }
            }
            guard j < body.count, body[j] == 0x20, len > 0, i + len <= body.count, body[i + len - 1] == 0x0a else {
                throw ArchiveError.unsupported(entry: entry, detail: "malformed PAX extended header record at byte \(i)")
            }
            let record = body[(j + 1)..<(i + len - 1)]
            guard let eq = record.firstIndex(of: UInt8(ascii: "=")) else {
                throw ArchiveError.unsupported(entry: entry, detail: "PAX record without '='")
            }
            let key = String(decoding: record[record.startIndex..<eq], as: UTF8.self)
            out[key] = Array(record[(eq + 1)...])
            i += len
        }
        return out
    }
}
