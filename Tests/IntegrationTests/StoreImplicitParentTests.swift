import Foundation
import Testing
import TestSupport

/// Issue 18 #8 end to end: an image whose second layer holds only `tmp/foo` (no `tmp/` entry)
/// keeps the base's `/tmp` (1777) in the running container, so a non-root user can write there.
@Suite("Store: implicit parent directories", .serialized, .requires(BuildHarness.requirements))
struct StoreImplicitParentTests {
    @Test func layerWithoutParentEntryKeepsLowerTmp() async throws {
        let s = try BuildSandbox()
        let fixture = try await BuildHarness.fixture("busybox")
        let a = s.root + "/archive"
        // A docker-archive: layer 1 = the busybox rootfs (/tmp 1777), layer 2 = only tmp/foo.
        let made = try await BuildHarness.run(["/bin/sh", "-c", """
            set -e
            mkdir -p '\(a)' '\(s.root)/l2/tmp'
            cp '\(fixture)/rootfs.tar' '\(a)/l1.tar'
            echo hi > '\(s.root)/l2/tmp/foo'
            tar --numeric-owner -C '\(s.root)/l2' -cf '\(a)/l2.tar' tmp/foo
            tar -tvf '\(a)/l2.tar' | grep -c . | grep -qx 1
            d1=$(sha256sum '\(a)/l1.tar' | cut -d' ' -f1); d2=$(sha256sum '\(a)/l2.tar' | cut -d' ' -f1)
            printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]}}' "$d1" "$d2" > '\(a)/c.json'
            c=$(sha256sum '\(a)/c.json' | cut -d' ' -f1); mv '\(a)/c.json' "\(a)/$c.json"
            printf '[{"Config":"%s.json","RepoTags":["implicit:1"],"Layers":["l1.tar","l2.tar"]}]' "$c" > '\(a)/manifest.json'
            tar -C '\(a)' -cf '\(s.root)/implicit.tar' .
            """])
        try #require(made.status == 0, "\(made.combined)")
        let load = try await s.slipway(["load", "-i", s.root + "/implicit.tar"])
        try #require(load.status == 0, "\(load.combined)")

        let run = try await s.slipway(["run", "-u", "65534", "implicit:1", "/bin/sh", "-c", "touch /tmp/x && stat -c %a /tmp && cat /tmp/foo"])
        #expect(run.status == 0, "\(run.combined)")
        #expect(run.stdout == "1777\nhi\n", "\(run.combined)")
    }
}
