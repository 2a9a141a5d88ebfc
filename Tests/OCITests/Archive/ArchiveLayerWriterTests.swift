import Foundation
import System
import Testing
@testable import OCI
#if canImport(Glibc)
import Glibc
#endif

/// A small tree with every kind of file a layer can hold.
func makeSampleTree(_ root: String) async throws {
    try await shell("""
        set -e
        cd '\(root)'
        mkdir -p etc usr/bin 'usr/share/doc/données' empty
        printf 'root:x:0:0::/root:/bin/sh\\n' > etc/passwd
        head -c 300000 /dev/urandom > usr/bin/tool
        chmod 4755 usr/bin/tool
        ln usr/bin/tool usr/bin/tool-hardlink
        ln -s ../usr/bin/tool etc/tool-link
        ln -s /nonexistent dangling
        printf 'x' > 'usr/share/doc/données/日本.txt'
        mknod dev-null c 1 3
        mkfifo fifo
        chown -h 1234:5678 etc/tool-link
        chown 1000:1001 etc/passwd
        chmod 1777 empty
        touch -h -d '2001-02-03 04:05:06' etc/tool-link
        """)
    try FileSystem.setXattr(root + "/etc/passwd", name: "user.note", value: Array("hello".utf8))
}

@Suite("Archive layer writer")
struct ArchiveLayerWriterTests {
    @Test("blob digests match sha256sum of the file and of its decompressed tar", arguments: LayerCompression.allCases)
    func digests(compression: LayerCompression) async throws {
        let dir = ScratchDir("lw")
        let tree = dir.sub("tree")
        try await makeSampleTree(tree)
        let blob = try LayerWriter(options: .init(compression: compression)).write(directory: tree, into: dir.path)
        #expect(blob.file.hasPrefix(dir.path + "/"))
        #expect(blob.mediaType == compression.ociMediaType)
        let fileSum = try await shell("sha256sum '\(blob.file)' | cut -d' ' -f1").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(blob.digest.encoded == fileSum)
        let cat = compression == .none ? "cat" : compression == .gzip ? "gzip -dc" : "zstd -dc"
        let tarSum = try await shell("\(cat) < '\(blob.file)' | sha256sum | cut -d' ' -f1").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(blob.diffID.encoded == tarSum)
        let size = try await shell("stat -c %s '\(blob.file)'").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(String(blob.compressedSize) == size)
        let listing = try await shell("\(cat) < '\(blob.file)' | tar --numeric-owner -tvf -")
        #expect(listing.contains("-rwsr-xr-x 0/0") && listing.contains("usr/bin/tool"))
        #expect(listing.contains("usr/bin/tool-hardlink link to usr/bin/tool"))
        #expect(listing.contains("etc/tool-link -> ../usr/bin/tool"))
        #expect(listing.contains("lrwxrwxrwx 1234/5678"))
        #expect(listing.contains("drwxrwxrwt") && listing.contains("empty/"))
        #expect(listing.contains("crw-r--r-- 0/0") || listing.contains("crw-"))
        #expect(listing.contains("prw-"))
        #expect(listing.contains("usr/share/doc/données/日本.txt"))
        #expect(!listing.contains(" ./"))
    }

    @Test("same tree gives the same digest; SOURCE_DATE_EPOCH clamps differing mtimes")
    func determinism() async throws {
        let dir = ScratchDir("lw")
        let a = dir.sub("a")
        let b = dir.sub("b")
        try await makeSampleTree(a)
        try await shell("cp -a '\(a)/.' '\(b)/'")
        // Same content, different (recent) mtimes.
        try await shell("find '\(b)' -exec touch -h -d '2030-01-01' {} +")
        let plain = LayerWriter(options: .init(compression: .gzip))
        let a1 = try plain.write(directory: a, into: dir.path)
        let a2 = try plain.write(directory: a, into: dir.path)
        #expect(a1.digest == a2.digest)
        #expect(a1.diffID == a2.diffID)
        let b1 = try plain.write(directory: b, into: dir.path)
        #expect(b1.diffID != a1.diffID)
        // Clamp to a time before both trees' mtimes (cp -a keeps the hardlink and all metadata).
        try await shell("find '\(a)' -exec touch -h -d '2029-01-01' {} +")
        let clamped = LayerWriter(options: .init(compression: .zstd, sourceDateEpoch: 1_000_000_000))
        let ca = try clamped.write(directory: a, into: dir.path)
        let cb = try clamped.write(directory: b, into: dir.path)
        #expect(ca.diffID == cb.diffID)
        #expect(ca.digest == cb.digest)
        let entries = try listTar(Array(try Data(contentsOf: URL(fileURLWithPath: ca.file))))
        #expect(entries.allSatisfy { $0.mtime <= 1_000_000_000 })
        // Paths are sorted depth first with each directory's names in byte order.
        #expect(entries.map(\.path).prefix(3) == ["dangling", "dev-null", "empty"])
    }

    @Test("upper-dir mode: hardlinked whiteout devices become separate .wh. files; overlay xattrs go")
    func upperWhiteoutsSharingAnInode() async throws {
        let dir = ScratchDir("lw")
        let upper = dir.sub("upper")
        // What overlayfs leaves: one 0:0 device inode linked under several names.
        try await shell("cd '\(upper)' && mkdir d && mknod d/x c 0 0 && ln d/x y && ln d/x d/z && echo data > f && ln f f2")
        try FileSystem.setXattr(upper + "/d", name: "trusted.overlay.opaque", value: Array("y".utf8))
        try FileSystem.setXattr(upper + "/f", name: "trusted.overlay.origin", value: [1, 2, 3])
        let blob = try LayerWriter(options: .init(compression: .none, source: .overlayUpper)).write(directory: upper, into: dir.path)
        let entries = try listTar(Array(try Data(contentsOf: URL(fileURLWithPath: blob.file))))
        let byPath = Dictionary(entries.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(entries.map(\.path) == ["d", "d/.wh..wh..opq", "d/.wh.x", "d/.wh.z", "f", "f2", ".wh.y"].sorted {
            // expected order: depth first, names in byte order within each directory
            ArchiveLayerWriterTests.order($0, $1)
        })
        for p in ["d/.wh.x", "d/.wh.z", ".wh.y", "d/.wh..wh..opq"] {
            #expect(byPath[p]?.kind == .regular && byPath[p]?.size == 0, "\(p)")
        }
        #expect(byPath["f2"]?.kind == .hardlink && byPath["f2"]?.linkName == "f")   // real hardlinks stay
        #expect(entries.allSatisfy { $0.xattrs.isEmpty })
        // In rootfs mode the same tree keeps its devices (and the devices' hardlinks).
        let rootfsBlob = try LayerWriter(options: .init(compression: .none)).write(directory: upper, into: dir.path)
        let plain = try listTar(Array(try Data(contentsOf: URL(fileURLWithPath: rootfsBlob.file))))
        #expect(plain.contains { $0.path == "d/x" && $0.kind == .characterDevice })
        #expect(!plain.contains { $0.isWhiteout })
    }

    static func order(_ a: String, _ b: String) -> Bool {
        let ca = a.split(separator: "/").map { Array($0.utf8) }
        let cb = b.split(separator: "/").map { Array($0.utf8) }
        for (x, y) in zip(ca, cb) where x != y {
            if x == Array(Whiteout.opaqueMarker.utf8) { return true }
            if y == Array(Whiteout.opaqueMarker.utf8) { return false }
            return x.lexicographicallyPrecedes(y)
        }
        return ca.count < cb.count
    }

    @Test("compressing an existing tar keeps its bytes and rejects non-tar input")
    func fromTarStream() throws {
        let dir = ScratchDir("lw")
        let tar = try makeTar([(TarEntry(path: "a", kind: .regular), Array("abc".utf8))])
        let blob = try LayerWriter(options: .init(compression: .zstd)).write(tarStream: MemorySource(tar), into: dir.path)
        #expect(blob.diffID == Digest.sha256(Data(tar)))
        #expect(blob.uncompressedSize == Int64(tar.count))
        let back = try AutoDecompressor(from: FileSource(path: blob.file)).readAll()
        #expect(back == tar)
        #expect(throws: ArchiveError.self) {
            _ = try LayerWriter().write(tarStream: MemorySource(Array(tar.prefix(700))), into: dir.path)
        }
        // Nothing left behind by the failed write.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".layer-") }
        #expect(leftovers.count == 1)
    }
}
