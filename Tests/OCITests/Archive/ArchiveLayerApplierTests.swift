import CLinux
import Foundation
import System
import Testing
@testable import OCI
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite("Archive layer applier")
struct ArchiveLayerApplierTests {
    @Test("device entries are skipped, not fatal, when devices cannot be created (unprivileged)")
    func devicesSkippedWhenUnprivileged() throws {
        let layer = try makeTar([
            (TarEntry(path: "dev", kind: .directory, mode: 0o755), []),
            (TarEntry(path: "dev/sda", kind: .blockDevice, mode: 0o660, deviceMajor: 8, deviceMinor: 0), []),
            (TarEntry(path: "dev/null", kind: .characterDevice, mode: 0o666, deviceMajor: 1, deviceMinor: 3), []),
            (TarEntry(path: "etc/hostname", kind: .regular), Array("box".utf8)),
        ])
        let dir = ScratchDir("devices")
        let out = dir.sub("out")
        let result = try LayerApplier(preserveOwnership: false, createDevices: false).apply(stream: MemorySource(layer), to: out)
        #expect(result.entries == 4)
        var st = stat()
        #expect(lstat(out + "/dev/sda", &st) != 0 && errno == ENOENT)
        #expect(lstat(out + "/dev/null", &st) != 0 && errno == ENOENT)
        #expect(readFile(out + "/etc/hostname") == "box")
    }

    @Test("as root, device entries are created with their numbers", .requires(.root))
    func devicesCreatedAsRoot() throws {
        let layer = try makeTar([
            (TarEntry(path: "dev", kind: .directory, mode: 0o755), []),
            (TarEntry(path: "dev/sda", kind: .blockDevice, mode: 0o660, deviceMajor: 8, deviceMinor: 0), []),
        ])
        let dir = ScratchDir("devices-root")
        let asRoot = dir.sub("root")
        try LayerApplier().apply(stream: MemorySource(layer), to: asRoot)
        var st = stat()
        #expect(lstat(asRoot + "/dev/sda", &st) == 0 && (st.st_mode & S_IFMT) == S_IFBLK && st.st_rdev == clinux_makedev(8, 0))
    }

    @Test("apply(write(dir)) reproduces the tree", arguments: LayerCompression.allCases)
    func roundTrip(compression: LayerCompression) async throws {
        let dir = ScratchDir("apply")
        let tree = dir.sub("tree")
        try await makeSampleTree(tree)
        try FileSystem.setXattr(tree + "/usr/bin/tool", name: "security.capability",
                           value: [1, 0, 0, 2, 0, 4, 0, 0] + [UInt8](repeating: 0, count: 12))
        try await shell("mkdir -p '\(tree)/deep/a/b/c' && touch -d '1999-12-31' '\(tree)/deep/a/b' '\(tree)/deep'")
        let blob = try LayerWriter(options: .init(compression: compression)).write(directory: tree, into: dir.path)
        let out = dir.sub("out")
        let result = try LayerApplier().apply(blob: blob.file, to: out)
        #expect(result.diffID == blob.diffID)
        #expect(result.uncompressedSize == blob.uncompressedSize)
        #expect(result.compression == compression)
        let want = try snapshot(tree)
        let got = try snapshot(out)
        #expect(got == want)
        #expect(got["usr/bin/tool"]?.contains("mode=104755") == true)
        #expect(got["usr/bin/tool-hardlink"]?.contains("linkof=usr/bin/tool") == true)
        #expect(got["usr/bin/tool"]?.contains("security.capability") == true)
    }

    @Test("flatten applies whiteouts and opaque directories onto a lower tree")
    func flattenWhiteouts() async throws {
        let dir = ScratchDir("apply")
        let root = dir.sub("root")
        try await shell("""
            cd '\(root)' && mkdir -p keep gone opq/sub && echo 1 > keep/a && echo 2 > gone/b \
              && echo 3 > opq/old && echo 4 > opq/sub/old && echo 5 > file
            """)
        let layer = try makeTar([
            (TarEntry(path: ".wh.gone", kind: .regular, mode: 0), []),
            (TarEntry(path: "keep/.wh.a", kind: .regular, mode: 0), []),
            (TarEntry(path: "opq", kind: .directory, mode: 0o755), []),
            (TarEntry(path: "opq/new", kind: .regular, mode: 0o644), Array("n".utf8)),
            // A directory this layer writes inside the opaque one loses its lower contents too.
            (TarEntry(path: "opq/sub", kind: .directory, mode: 0o755), []),
            (TarEntry(path: "opq/sub/mine", kind: .regular, mode: 0o644), Array("m".utf8)),
            // Marker after a file of the same layer: that file must survive.
            (TarEntry(path: "opq/.wh..wh..opq", kind: .regular, mode: 0), []),
            (TarEntry(path: "file", kind: .directory, mode: 0o700), []),    // file replaced by a dir
            (TarEntry(path: ".wh.missing", kind: .regular, mode: 0), []),   // nothing to delete: fine
        ])
        let r = try LayerApplier(mode: .flatten).apply(stream: MemorySource(layer), to: root)
        #expect(r.whiteouts == 4)
        let snap = try snapshot(root, mtimes: false)
        #expect(Set(snap.keys) == ["keep", "opq", "opq/new", "opq/sub", "opq/sub/mine", "file"])
        #expect(snap["file"]?.hasPrefix("mode=40700") == true)
    }

    @Test("overlayLower writes overlayfs whiteouts, and a real overlay mount honours them")
    func overlayLowerMode() async throws {
        let dir = ScratchDir("apply")
        let base = dir.sub("base")
        try await shell("cd '\(base)' && mkdir -p d opq && echo x > d/f && echo y > opq/old && echo z > top")
        let layer = try makeTar([
            (TarEntry(path: "d/.wh.f", kind: .regular, mode: 0), []),
            (TarEntry(path: "opq", kind: .directory, mode: 0o755), []),
            (TarEntry(path: "opq/.wh..wh..opq", kind: .regular, mode: 0), []),
            (TarEntry(path: "opq/new", kind: .regular, mode: 0o644), Array("n".utf8)),
            (TarEntry(path: ".wh.top", kind: .regular, mode: 0), []),
        ])
        let l1 = dir.sub("l1")
        try LayerApplier(mode: .overlayLower).apply(stream: MemorySource(layer), to: l1)
        var st = stat()
        #expect(lstat(l1 + "/d/f", &st) == 0)
        #expect(LayerFiles.isWhiteoutDevice(st))
        #expect(try LayerFiles.xattrs(l1 + "/opq")["trusted.overlay.opaque"] == Array("y".utf8))
        // Stack it over the base and look through the mount.
        let merged = dir.sub("merged")
        try await shell("mount -t overlay overlay -o lowerdir=\(l1):\(base) \(merged)")
        defer { _ = umount2(merged, 0) }
        let seen = try snapshot(merged, mtimes: false)
        #expect(Set(seen.keys) == ["d", "opq", "opq/new"])
    }

    @Test("overlay upper dir: deletions and opaque dirs become .wh. entries that flatten correctly")
    func realOverlayUpper() async throws {
        let dir = ScratchDir("overlay")
        let lower = dir.sub("lower")
        try await shell("""
            cd '\(lower)' && mkdir -p etc/apt/conf.d usr/share/doc/pkg keepdir && echo a > etc/hostname \
              && echo b > etc/apt/sources.list && echo c > etc/apt/conf.d/x && echo d > usr/share/doc/pkg/README \
              && echo e > keepdir/file && echo f > deleted-file
            """)
        let upper = dir.sub("upper")
        let work = dir.sub("work")
        let merged = dir.sub("merged")
        try await mountOverlay(lower: lower, upper: upper, work: work, merged: merged)
        do {
            try await shell("""
                cd '\(merged)' && rm etc/hostname deleted-file && rm -rf usr/share/doc \
                  && rm -rf etc/apt && mkdir etc/apt && echo new > etc/apt/newfile \
                  && echo added > keepdir/added && chmod 4711 keepdir/added
                """)
        } catch {
            _ = try? await shell("umount '\(merged)'")
            throw error
        }
        try await shell("umount '\(merged)'")
        // The kernel shares one inode between whiteouts: they must not turn into hardlinks.
        let blob = try LayerWriter(options: .init(compression: .zstd, source: .overlayUpper)).write(directory: upper, into: dir.path)
        let reader = try LayerReader(blob: blob.file)
        var entries: [String: TarEntry] = [:]
        var order: [String] = []
        try reader.forEach { entries[$0.path] = $0; order.append($0.path) }
        #expect(entries["etc/.wh.hostname"]?.kind == .regular)
        #expect(entries[".wh.deleted-file"]?.kind == .regular)
        #expect(entries["usr/share/.wh.doc"]?.kind == .regular)
        #expect(entries["etc/apt/.wh..wh..opq"]?.kind == .regular)
        #expect(entries["etc/apt/newfile"] != nil)
        #expect(entries["keepdir/added"]?.mode == 0o4711)
        #expect(!entries.values.contains { $0.kind == .hardlink })
        #expect(!entries.values.contains { $0.kind == .characterDevice })
        #expect(!entries.values.contains { $0.xattrs.keys.contains { $0.hasPrefix("trusted.overlay.") } })
        // The opaque marker comes straight after its directory.
        let apt = try #require(order.firstIndex(of: "etc/apt"))
        #expect(order[apt + 1] == "etc/apt/.wh..wh..opq")
        // GNU tar sees plain files.
        let listing = try await shell("zstd -dc '\(blob.file)' | tar -tvf -")
        #expect(listing.contains("etc/.wh.hostname"))

        // Flattening lower + layer equals what the mount showed.
        let flat = dir.sub("flat")
        try await shell("cp -a '\(lower)/.' '\(flat)/'")
        try LayerApplier(mode: .flatten).apply(blob: blob.file, to: flat)
        try await mountOverlay(lower: lower, upper: upper, work: work, merged: merged)
        let expected: [String: String]
        do { expected = try snapshot(merged, mtimes: false) } catch {
            _ = try? await shell("umount '\(merged)'")
            throw error
        }
        try await shell("umount '\(merged)'")
        #expect(try snapshot(flat, mtimes: false) == expected)
        #expect(expected["etc/apt/sources.list"] == nil && expected["etc/apt/newfile"] != nil)
    }
}
