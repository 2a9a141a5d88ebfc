import CLinux
import Foundation
import Testing
@testable import OCI
#if canImport(Glibc)
import Glibc
#endif

/// Issue 18 #8: a layer holding `tmp/foo` but no `tmp/` entry must not mask the lower layer's
/// `/tmp` (1777) with a 0755 root directory. Missing parents take their metadata from the
/// lower layers (containerd's `mkparent`).
@Suite("Archive: implicit parent directories")
struct ArchiveImplicitParentTests {
    static func stat(_ path: String) -> stat? {
        var st = Glibc.stat()
        return lstat(path, &st) == 0 ? st : nil
    }

    static var asRoot: Bool { geteuid() == 0 }

    @Test("overlay-lower form: implicit parents copy mode, owner and time from the topmost lower that has them",
          .enabled(if: asRoot))
    func overlayLowerTakesLowerMetadata() throws {
        let dir = ScratchDir("implicit")
        // Two lowers, topmost first: `upper` has /usr (0750, 5:6); `base` has /tmp (1777),
        // /usr (0700, ignored: upper decides) and /opt, which `upper` whites out.
        let base = dir.sub("base"), upper = dir.sub("upper")
        try LayerApplier(mode: .overlayLower).apply(stream: MemorySource(try makeTar([
            (TarEntry(path: "tmp", kind: .directory, mode: 0o1777, mtime: 1_000_000), []),
            (TarEntry(path: "usr", kind: .directory, mode: 0o700), []),
            (TarEntry(path: "opt", kind: .directory, mode: 0o700, uid: 7), []),
            (TarEntry(path: "var", kind: .directory, mode: 0o711, uid: 3), []),
            (TarEntry(path: "var/lib", kind: .directory, mode: 0o700), []),
        ])), to: base)
        try LayerApplier(mode: .overlayLower).apply(stream: MemorySource(try makeTar([
            (TarEntry(path: "usr", kind: .directory, mode: 0o750, uid: 5, gid: 6), []),
            (TarEntry(path: ".wh.opt", kind: .regular), []),
            (TarEntry(path: "var", kind: .directory, mode: 0o755), []),
            (TarEntry(path: "var/.wh..wh..opq", kind: .regular), []),
        ])), to: upper)

        let out = dir.sub("layer")
        let layer = try makeTar([
            (TarEntry(path: "tmp/foo", kind: .regular, mode: 0o644), Array("x".utf8)),
            (TarEntry(path: "usr/local/bin/tool", kind: .regular, mode: 0o755), []),
            (TarEntry(path: "opt/app", kind: .regular), []),
            (TarEntry(path: "var/lib/x", kind: .regular), []),
        ])
        try LayerApplier(mode: .overlayLower, lowerDirectories: [upper, base]).apply(stream: MemorySource(layer), to: out)

        let tmp = try #require(Self.stat(out + "/tmp"))
        #expect(tmp.st_mode & 0o7777 == 0o1777 && tmp.st_uid == 0, "tmp: \(String(tmp.st_mode & 0o7777, radix: 8))")
        #expect(tmp.st_mtim.tv_sec == 1_000_000, "the lower's time, set after the children were written")
        let usr = try #require(Self.stat(out + "/usr"))
        #expect(usr.st_mode & 0o7777 == 0o750 && usr.st_uid == 5 && usr.st_gid == 6, "the topmost lower decides")
        #expect(Self.stat(out + "/usr/local").map { $0.st_mode & 0o7777 } == 0o755, "in no lower: the default")
        let opt = try #require(Self.stat(out + "/opt"))
        #expect(opt.st_mode & 0o7777 == 0o755 && opt.st_uid == 0, "whited out above: the default")
        #expect(Self.stat(out + "/var").map { $0.st_mode & 0o7777 } == 0o755, "upper's own /var")
        #expect(Self.stat(out + "/var/lib").map { $0.st_mode & 0o7777 } == 0o755, "an opaque /var hides base's")

        // Without lowers (the old behaviour, still the default): 0755 root.
        let plain = dir.sub("plain")
        try LayerApplier(mode: .overlayLower).apply(stream: MemorySource(layer), to: plain)
        #expect(Self.stat(plain + "/tmp").map { $0.st_mode & 0o7777 } == 0o755)
    }

    @Test("flatten form: a missing parent takes the named lower tree's metadata", .enabled(if: asRoot))
    func flattenTakesLowerMetadata() throws {
        let dir = ScratchDir("implicit-flat")
        let lower = dir.sub("lower")
        try LayerApplier().apply(stream: MemorySource(try makeTar([
            (TarEntry(path: "srv", kind: .directory, mode: 0o2775, gid: 50), []),
        ])), to: lower)
        let out = dir.sub("out")
        try LayerApplier(lowerDirectories: [lower]).apply(stream: MemorySource(try makeTar([
            (TarEntry(path: "srv/www/index.html", kind: .regular), Array("hi".utf8)),
        ])), to: out)
        let srv = try #require(Self.stat(out + "/srv"))
        #expect(srv.st_mode & 0o7777 == 0o2775 && srv.st_gid == 50)
        // Not in the lower: the default (plus the setgid bit the kernel carries down from srv).
        #expect(Self.stat(out + "/srv/www").map { $0.st_mode & 0o777 } == 0o755)
    }
}
