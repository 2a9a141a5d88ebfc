import Foundation
import Testing
import TestSupport

extension Fixtures {
    /// Makes a small root filesystem from busybox-static in `dir/rootfs` (/bin/busybox plus
    /// sh/ls/cat/echo symlinks, /etc/passwd, /tmp) and returns its path; tests that call it
    /// require `.busybox` (busybox-static). `padding` adds a file of that many random bytes
    /// (to make slow-enough inputs for kill tests).
    static func busyboxRootfs(in dir: String, padding: Int = 0) async throws -> String {
        let busybox = try #require(Host.executable("busybox"), "busybox-static is not installed")
        let root = dir + "/rootfs"
        try await sh("""
            set -e
            mkdir -p '\(root)/bin' '\(root)/etc' '\(root)/tmp' '\(root)/root'
            cp '\(busybox)' '\(root)/bin/busybox'
            for t in sh ls cat echo; do ln -sf busybox '\(root)/bin/'$t; done
            echo 'root:x:0:0:root:/root:/bin/sh' > '\(root)/etc/passwd'
            chmod 1777 '\(root)/tmp'
            """)
        if padding > 0 {
            try await sh("head -c \(padding) /dev/urandom > '\(root)/root/padding.bin'")
        }
        return root
    }

    /// Tars a directory (numeric owners, sorted names) to `output`; compresses it when the name
    /// ends in .gz or .zst.
    static func tarball(of dir: String, to output: String) async throws {
        let base = output.hasSuffix(".gz") ? String(output.dropLast(3)) : output.hasSuffix(".zst") ? String(output.dropLast(4)) : output
        try await sh("tar --sort=name --numeric-owner -C '\(dir)' -cf '\(base)' .")
        if output.hasSuffix(".gz") { try await sh("gzip -f '\(base)'") }
        if output.hasSuffix(".zst") { try await sh("zstd -q -f --rm '\(base)'") }
    }
}
