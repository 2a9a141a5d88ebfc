import Foundation
import System
import Testing
@testable import OCI

@Suite("Archive tar reader and writer")
struct ArchiveTarTests {
    static let longDir = String(repeating: "d", count: 120)
    static let longName = longDir + "/" + String(repeating: "f", count: 90)            // ustar prefix split
    static let veryLong = (1...3).map { String(repeating: "x\($0)", count: 50) }.joined(separator: "/") + "/file"               // needs PAX
    static let unicode = "données/日本語.txt"

    /// VFS_CAP_REVISION_2 with cap_net_bind_service permitted and effective.
    static let capability: [UInt8] = [1, 0, 0, 2, 0, 4, 0, 0] + [UInt8](repeating: 0, count: 12)

    static func sampleEntries() -> [(TarEntry, [UInt8])] {
        [
            (TarEntry(path: "dir", kind: .directory, mode: 0o755, uid: 1000, gid: 1000, mtime: 1_700_000_000), []),
            (TarEntry(path: "dir/file", kind: .regular, mode: 0o4755, uid: 0, gid: 0, mtime: 1_700_000_001,
                      xattrs: ["user.test": Array("value".utf8), "security.capability": capability]),
             Array("hello\n".utf8)),
            (TarEntry(path: "dir/link", kind: .symlink, mode: 0o777, linkName: "file"), []),
            (TarEntry(path: "dir/hard", kind: .hardlink, linkName: "dir/file"), []),
            (TarEntry(path: "dir/null", kind: .characterDevice, mode: 0o666, deviceMajor: 1, deviceMinor: 3), []),
            (TarEntry(path: "dir/loop", kind: .blockDevice, mode: 0o660, deviceMajor: 7, deviceMinor: 0), []),
            (TarEntry(path: "dir/fifo", kind: .fifo, mode: 0o600), []),
            (TarEntry(path: longName, kind: .regular, mode: 0o644), Array("long".utf8)),
            (TarEntry(path: veryLong, kind: .regular, mode: 0o644, uid: 5_000_000, gid: 3_000_000), Array("very".utf8)),
            (TarEntry(path: unicode, kind: .regular, mode: 0o600), Array("u".utf8)),
            (TarEntry(path: "dir/longlink", kind: .symlink, linkName: veryLong), []),
        ]
    }

    @Test("writer output reads back identically")
    func roundTrip() throws {
        let entries = Self.sampleEntries()
        let bytes = try makeTar(entries)
        #expect(bytes.count % 512 == 0)
        let r = TarReader(source: MemorySource(bytes))
        for (expected, data) in entries {
            let got = try #require(try r.next())
            var want = expected
            if want.kind == .regular { want.size = Int64(data.count) }
            #expect(got == want)
            #expect(try r.readData() == data)
        }
        #expect(try r.next() == nil)
    }

    @Test("GNU tar lists and extracts the writer's archives")
    func gnuTarReadsOurs() async throws {
        let dir = ScratchDir("tar")
        let bytes = try makeTar(Self.sampleEntries())
        try Data(bytes).write(to: URL(fileURLWithPath: dir.path + "/a.tar"))
        let listing = try await shell("tar --numeric-owner -tvf \(dir.path)/a.tar")
        #expect(listing.contains("-rwsr-xr-x 0/0"))
        #expect(listing.contains("dir/link -> file"))
        #expect(listing.contains("dir/hard link to dir/file"))
        #expect(listing.contains("crw-rw-rw- 0/0") && listing.contains("1,3"))
        #expect(listing.contains(Self.veryLong))
        #expect(listing.contains(Self.longName))
        #expect(listing.contains("5000000/3000000"))
        #expect(listing.contains(Self.unicode))
        let out = dir.sub("x")
        try await shell("tar --xattrs --xattrs-include='*' -xpf \(dir.path)/a.tar -C \(out)")
        #expect(readFile(out + "/dir/file") == "hello\n")
        #expect(readFile(out + "/" + Self.veryLong) == "very")
        #expect(try LayerFiles.xattrs(out + "/dir/file")["user.test"] == Array("value".utf8))
    }

    @Test("reads GNU, old-GNU and PAX archives written by GNU tar")
    func readsGnuTar() async throws {
        let dir = ScratchDir("tar")
        let src = dir.sub("src")
        let deep = src + "/" + Self.veryLong.replacingOccurrences(of: "/file", with: "")
        try await shell("mkdir -p '\(deep)' && printf abc > '\(deep)/file' && ln -s '\(Self.veryLong)' \(src)/sym")
        try FileSystem.setXattr(deep + "/file", name: "user.k", value: Array("v2".utf8))
        for format in ["gnu", "oldgnu", "posix", "ustar"] {
            if format == "ustar" { continue }   // ustar cannot hold a 305-byte path
            let tarball = "\(dir.path)/\(format).tar"
            try await shell("cd \(src) && tar --format=\(format) --xattrs -cf \(tarball) .")
            let entries = try listTar(Array(try Data(contentsOf: URL(fileURLWithPath: tarball))))
            let file = try #require(entries.first { $0.path == Self.veryLong }, "format \(format)")
            #expect(file.size == 3)
            let sym = try #require(entries.first { $0.path == "sym" })
            #expect(sym.linkName == Self.veryLong)
            if format == "posix" { #expect(file.xattrs["user.k"] == Array("v2".utf8)) }
            #expect(entries.contains { $0.path == "" && $0.kind == .directory })   // "./"
        }
    }

    /// A raw 512-byte header (ustar) followed by `body` padded to a block.
    static func rawEntry(_ name: String, _ typeflag: Character, _ body: [UInt8], mtime: Int64 = 0) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        TarWriter.put(&h, 0, 100, Array(name.utf8))
        TarWriter.putOctal(&h, 100, 8, 0o644)
        TarWriter.putOctal(&h, 108, 8, 0)
        TarWriter.putOctal(&h, 116, 8, 0)
        TarWriter.putOctal(&h, 124, 12, Int64(body.count))
        TarWriter.putOctal(&h, 136, 12, mtime)
        h[156] = typeflag.asciiValue!
        TarWriter.put(&h, 257, 8, Array("ustar\u{0}00".utf8))
        for i in 148..<156 { h[i] = 0x20 }
        TarWriter.putOctal(&h, 148, 7, h.reduce(0) { $0 + Int64($1) })
        h[155] = 0x20
        return h + body + [UInt8](repeating: 0, count: (512 - body.count % 512) % 512)
    }

    @Test("global PAX headers apply shared keys to later entries but never rename them")
    func globalPax() throws {
        let g = TarWriter.paxRecord(key: "SCHILY.xattr.user.g", value: Array("1".utf8))
            + TarWriter.paxRecord(key: "path", value: Array("evil".utf8))
        let x = TarWriter.paxRecord(key: "mtime", value: Array("1700000000.25".utf8))
        var tar = Self.rawEntry("pax_global_header", "g", g)
        tar += Self.rawEntry("a", "0", Array("A".utf8))
        tar += Self.rawEntry("PaxHeaders/b", "x", x)
        tar += Self.rawEntry("b", "0", [])
        tar += [UInt8](repeating: 0, count: 1024)
        let entries = try listTar(tar)
        #expect(entries.map(\.path) == ["a", "b"])
        #expect(entries.allSatisfy { $0.xattrs["user.g"] == Array("1".utf8) })
        #expect(entries[1].mtime == 1_700_000_000 && entries[1].mtimeNanoseconds == 250_000_000)
        // Sub-second mtimes survive an apply.
        let dir = ScratchDir("tar")
        try LayerApplier().apply(stream: MemorySource(tar), to: dir.path)
        var st = stat()
        #expect(lstat(dir.path + "/b", &st) == 0 && st.st_mtim.tv_nsec == 250_000_000)
    }

    @Test("an entry claiming a size near Int64.max is a clear error, not an overflow trap")
    func hugeSize() throws {
        let x = TarWriter.paxRecord(key: "size", value: Array(String(Int64.max).utf8))
        var tar = Self.rawEntry("PaxHeaders/huge", "x", x)
        tar += Self.rawEntry("huge", "0", [])
        tar += [UInt8](repeating: 0, count: 1024)
        #expect(throws: ArchiveError.self) { _ = try listTar(tar) }
        let dir = ScratchDir("tar")
        #expect(throws: ArchiveError.self) { try LayerApplier().apply(stream: MemorySource(tar), to: dir.path) }
    }

    @Test("GNU sparse entries are refused rather than extracted wrong")
    func sparseRefused() throws {
        var tar = Self.rawEntry("sparse", "S", [])
        tar += [UInt8](repeating: 0, count: 1024)
        #expect(try listTar(tar).first?.kind == .other(UInt8(ascii: "S")))
        let dir = ScratchDir("tar")
        #expect(throws: ArchiveError.unsupported(entry: "sparse", detail: "GNU sparse and multi-volume entries are not supported in layers")) {
            try LayerApplier().apply(stream: MemorySource(tar), to: dir.path)
        }
    }

    @Test("base-256 numbers from GNU tar (ids beyond 7 octal digits)")
    func base256() async throws {
        let dir = ScratchDir("tar")
        let src = dir.sub("src")
        try await shell("echo x > \(src)/f && chown 5000000:6000000 \(src)/f && tar --format=gnu -C \(src) -cf \(dir.path)/g.tar f")
        let raw = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.path + "/g.tar")))
        #expect(raw[108] & 0x80 != 0)   // GNU tar did use base-256
        let e = try #require(try listTar(raw).first)
        #expect(e.uid == 5_000_000 && e.gid == 6_000_000)
    }

    @Test("truncation is a clear error naming the entry")
    func truncated() throws {
        let bytes = try makeTar([(TarEntry(path: "big", kind: .regular), [UInt8](repeating: 7, count: 5000))])
        // Cut inside the data.
        let cut = Array(bytes.prefix(512 + 1000))
        let r = TarReader(source: MemorySource(cut))
        #expect(try r.next()?.path == "big")
        do {
            _ = try r.readData()
            Issue.record("no error")
        } catch let e as ArchiveError {
            guard case .truncated(let entry, _) = e else { Issue.record("\(e)"); return }
            #expect(entry == "big")
            #expect(e.description.contains("'big'"))
        }
        // Cut inside a header and before the end marker.
        #expect(throws: ArchiveError.self) { _ = try listTar(Array(bytes.prefix(300))) }
        #expect(throws: ArchiveError.self) { _ = try listTar(Array(bytes.prefix(512 + 5120))) }
        // Garbage is not a tar.
        #expect(throws: ArchiveError.self) { _ = try listTar([UInt8](repeating: 0x41, count: 1024)) }
        // An empty stream is an empty archive.
        #expect(try listTar([]).isEmpty)
    }
}
