import Foundation

/// Writes a tar stream: ustar headers, with a PAX extended header in front of any entry whose
/// path, link target, size, ids or xattrs do not fit ustar (or are not ASCII). User and group
/// names are left empty so that only numeric ids count, and mtimes are whole seconds (as
/// Docker and BuildKit write them), so equal trees give byte-identical archives.
public final class TarWriter {
    private let sink: ByteSink
    private let buffer: UnsafeMutableRawBufferPointer
    private var used = 0
    /// Data bytes still owed for the current entry.
    private var remaining: Int64 = 0
    private var pad = 0
    private var currentPath = ""
    private var finished = false
    /// Bytes of tar stream produced so far.
    public private(set) var bytesWritten: Int64 = 0

    public init(sink: ByteSink) {
        self.sink = sink
        self.buffer = .allocate(byteCount: 1 << 20, alignment: 4096)
    }

    deinit { buffer.deallocate() }

    /// Writes `entry`'s header(s). For regular files exactly `entry.size` bytes of data must
    /// follow through `writeData`/`writeData(from:)` before the next entry.
    public func add(_ entry: TarEntry) throws {
        try closeEntry()
        var e = entry
        if e.kind != .regular { e.size = 0 }
        var pax: [(String, [UInt8])] = []
        var name = e.path
        if e.kind == .directory && !name.hasSuffix("/") { name += "/" }
        let split = Self.splitUstar(name)
        if split == nil { pax.append(("path", Array(name.utf8))) }
        if !Self.fitsUstar(e.linkName, max: 100) { pax.append(("linkpath", Array(e.linkName.utf8))) }
        if e.size > 0o77777777777 { pax.append(("size", Array(String(e.size).utf8))) }
        if e.uid < 0 || e.uid > 0o7777777 { pax.append(("uid", Array(String(e.uid).utf8))) }
        if e.gid < 0 || e.gid > 0o7777777 { pax.append(("gid", Array(String(e.gid).utf8))) }
        if e.mtime < 0 || e.mtime > 0o77777777777 { pax.append(("mtime", Array(String(e.mtime).utf8))) }
        for key in e.xattrs.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            pax.append(("SCHILY.xattr." + key, e.xattrs[key] ?? []))
        }
        if !pax.isEmpty {
            var body: [UInt8] = []
            for (key, value) in pax { body += Self.paxRecord(key: key, value: value) }
            let paxName = Self.paxHeaderName(for: name)
            var h = TarEntry(path: paxName, kind: .regular, mode: 0o644, size: Int64(body.count))
            h.mtime = 0
            try emitHeader(h, name: (prefix: "", name: paxName), typeflag: UInt8(ascii: "x"))
            try emit(body)
            try emitPadding(body.count)
        }
        let fields = split ?? (prefix: "", name: String(decoding: Array(name.utf8.prefix(100)), as: UTF8.self))
        try emitHeader(e, name: fields, typeflag: Self.typeflag(e.kind))
        remaining = e.size
        pad = Int((512 - e.size % 512) % 512)
        currentPath = e.path
    }

    /// Writes data for the current regular-file entry.
    public func writeData(_ bytes: UnsafeRawBufferPointer) throws {
        guard Int64(bytes.count) <= remaining else {
            throw ArchiveError.unsupportedFile(path: currentPath, reason: "more data written than the header's size (the file grew while being archived?)")
        }
        remaining -= Int64(bytes.count)
        try emit(bytes)
    }

    /// Copies the current entry's data from a file descriptor straight into the output buffer.
    /// Throws if the file yields fewer bytes than the header announced (it shrank meanwhile).
    public func writeData(fromDescriptor fd: Int32, path: String) throws {
        try writeData(fromDescriptor: fd, path: path) { _ in }
    }

    /// As `writeData(fromDescriptor:path:)`, handing every chunk read to `observe` (a digest
    /// check on the way out) before it is written.
    public func writeData(fromDescriptor fd: Int32, path: String, observe: (UnsafeRawBufferPointer) -> Void) throws {
        while remaining > 0 {
            if used == buffer.count { try flush() }
            let space = min(buffer.count - used, Int(min(remaining, Int64(Int.max))))
            let n = read(fd, buffer.baseAddress! + used, space)
            if n < 0 {
                if errno == EINTR { continue }
                throw ArchiveError.io(operation: "read", path: path, errno: errno)
            }
            if n == 0 {
                throw ArchiveError.unsupportedFile(path: path, reason: "file shrank while being archived")
            }
            observe(UnsafeRawBufferPointer(start: buffer.baseAddress! + used, count: n))
            used += n
            bytesWritten += Int64(n)
            remaining -= Int64(n)
        }
    }

    /// Writes the end-of-archive marker (two zero blocks), flushes, and finishes the sink.
    public func finish() throws {
        guard !finished else { return }
        try closeEntry()
        finished = true
        try emitZeros(1024)
        try flush()
        try sink.finish()
    }

    // MARK: - internals

    private func closeEntry() throws {
        if remaining != 0 {
            throw ArchiveError.unsupportedFile(path: currentPath, reason: "\(remaining) bytes of data missing from the archive")
        }
        if pad > 0 { try emitZeros(pad); pad = 0 }
    }

    private func flush() throws {
        if used > 0 {
            try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<used]))
            used = 0
        }
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            if used == buffer.count { try flush() }
            let n = min(buffer.count - used, bytes.count - offset)
            (buffer.baseAddress! + used).copyMemory(from: bytes.baseAddress! + offset, byteCount: n)
            used += n
            offset += n
        }
        bytesWritten += Int64(bytes.count)
    }

    private func emit(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try emit($0) } }

    private func emitZeros(_ count: Int) throws {
        var left = count
        while left > 0 {
            if used == buffer.count { try flush() }
            let n = min(buffer.count - used, left)
            (buffer.baseAddress! + used).initializeMemory(as: UInt8.self, repeating: 0, count: n)
            used += n
            left -= n
        }
        bytesWritten += Int64(count)
    }

    private func emitPadding(_ size: Int) throws {
        let p = (512 - size % 512) % 512
        if p > 0 { try emitZeros(p) }
    }

    private func emitHeader(_ e: TarEntry, name: (prefix: String, name: String), typeflag: UInt8) throws {
        var h = [UInt8](repeating: 0, count: 512)
        Self.put(&h, 0, 100, Array(name.name.utf8))
        Self.putOctal(&h, 100, 8, Int64(e.mode & 0o7777))
        Self.putOctal(&h, 108, 8, (e.uid >= 0 && e.uid <= 0o7777777) ? Int64(e.uid) : 0)
        Self.putOctal(&h, 116, 8, (e.gid >= 0 && e.gid <= 0o7777777) ? Int64(e.gid) : 0)
        Self.putOctal(&h, 124, 12, e.size <= 0o77777777777 ? e.size : 0)
        Self.putOctal(&h, 136, 12, (e.mtime >= 0 && e.mtime <= 0o77777777777) ? e.mtime : 0)
        h[156] = typeflag
        if Self.fitsUstar(e.linkName, max: 100) { Self.put(&h, 157, 100, Array(e.linkName.utf8)) }
        Self.put(&h, 257, 8, Array("ustar\u{0}00".utf8))
        if e.kind == .characterDevice || e.kind == .blockDevice {
            Self.putOctal(&h, 329, 8, Int64(e.deviceMajor))
            Self.putOctal(&h, 337, 8, Int64(e.deviceMinor))
        }
        Self.put(&h, 345, 155, Array(name.prefix.utf8))
        for i in 148..<156 { h[i] = 0x20 }
        let sum = h.reduce(0) { $0 + Int64($1) }
        Self.putOctal(&h, 148, 7, sum)
        h[155] = 0x20
        try emit(h)
    }

    static func typeflag(_ kind: TarEntry.Kind) -> UInt8 {
        switch kind {
        case .regular: return UInt8(ascii: "0")
        case .hardlink: return UInt8(ascii: "1")
        case .symlink: return UInt8(ascii: "2")
        case .characterDevice: return UInt8(ascii: "3")
        case .blockDevice: return UInt8(ascii: "4")
        case .directory: return UInt8(ascii: "5")
        case .fifo: return UInt8(ascii: "6")
        case .other(let f): return f
        }
    }

    static func isPlainASCII(_ s: String) -> Bool { s.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7f } }

    static func fitsUstar(_ s: String, max: Int) -> Bool { s.utf8.count <= max && isPlainASCII(s) }

    /// Splits a path into ustar's prefix (155) and name (100) fields, or nil if it cannot be.
    static func splitUstar(_ path: String) -> (prefix: String, name: String)? {
        guard isPlainASCII(path) else { return nil }
        let bytes = Array(path.utf8)
        if bytes.count <= 100 { return ("", path) }
        if bytes.count > 256 { return nil }
        // Split at a '/' so that the name part fits in 100 and the prefix in 155; a trailing
        // slash (directories) stays with the name.
        let searchEnd = bytes.count - 1
        var i = min(155, searchEnd - 1)
        while i > 0 {
            if bytes[i] == UInt8(ascii: "/") && bytes.count - i - 1 <= 100 && bytes.count - i - 1 > 0 {
                return (String(decoding: bytes[0..<i], as: UTF8.self),
                        String(decoding: bytes[(i + 1)...], as: UTF8.self))
            }
            i -= 1
        }
        return nil
    }

    /// `PaxHeaders/<base>` like GNU tar's default, truncated to fit, deterministic.
    static func paxHeaderName(for path: String) -> String {
        var base = path.hasSuffix("/") ? String(path.dropLast()) : path
        if let slash = base.lastIndex(of: "/") { base = String(base[base.index(after: slash)...]) }
        let ascii = String(decoding: base.utf8.map { ($0 >= 0x20 && $0 < 0x7f) ? $0 : UInt8(ascii: "_") }, as: UTF8.self)
        return "PaxHeaders/" + String(ascii.prefix(80))
    }

    /// One PAX record: "<len> <key>=<value>\n", where len counts the whole record.
    static func paxRecord(key: String, value: [UInt8]) -> [UInt8] {
        let rest = 1 + key.utf8.count + 1 + value.count + 1
        var len = rest + 1
        while String(len).utf8.count + rest > len { len += 1 }
        len = String(len).utf8.count + rest
        return Array("\(len) \(key)=".utf8) + value + [0x0a]
    }

    static func put(_ h: inout [UInt8], _ offset: Int, _ size: Int, _ bytes: [UInt8]) {
        for (i, b) in bytes.prefix(size).enumerated() { h[offset + i] = b }
    }

    static func putOctal(_ h: inout [UInt8], _ offset: Int, _ size: Int, _ value: Int64) {
        // size-1 octal digits, zero padded, then NUL (what GNU tar and Go write).
        var digits = Array(String(value, radix: 8).utf8)
        let width = size - 1
        if digits.count < width { digits = [UInt8](repeating: UInt8(ascii: "0"), count: width - digits.count) + digits }
        put(&h, offset, width, digits)
        h[offset + width] = 0
    }
}
