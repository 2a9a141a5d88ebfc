import Foundation
import Testing
import TestSupport

/// A named directory context (`--build-context NAME=DIR`) is read like BuildKit's dockerui
/// reads it: through `DIR/.dockerignore` (not the main context's, nor a Dockerfile-specific
/// one), for COPY --from and for RUN --mount from=, with files owned by root.
@Suite("Extensions: .dockerignore of named contexts", .serialized, .requires(BuildHarness.requirements))
struct ExtensionsContextIgnoreTests {
    @Test("DIR/.dockerignore hides files from COPY --from=NAME and --mount from=NAME; the main context's rules don't apply")
    func namedIgnore() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        let assets = s.root + "/assets"
        func put(_ path: String, _ text: String) throws {
            let full = assets + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        try put(".dockerignore", "*.secret\ntmp/\n!tmp/keep.txt\n")
        try put("logo.txt", "logo\n")
        try put("key.secret", "s3cret\n")
        try put("tmp/junk.txt", "junk\n")
        try put("tmp/keep.txt", "keep\n")
        try put("notes.md", "notes\n")
        #expect(chown(assets + "/logo.txt", 1234, 1234) == 0)
        // The main context ignores *.md; that must not leak into the named one.
        try s.write(".dockerignore", "*.md\n")
        try s.write("Dockerfile.dockerignore", "*.md\nlogo.txt\n")
        try s.write("Dockerfile", """
            FROM busybox:latest
            COPY --from=assets . /assets/
            RUN --mount=type=bind,from=assets,target=/a ls -A /a /a/tmp > /mount-listing.txt
            """)
        let out = s.root + "/rootfs"
        let r = try await s.build(["--build-context", "assets=\(assets)", "--output", "type=local,dest=\(out)"])
        #expect(r.status == 0, "\(r.combined)")
        let fm = FileManager.default
        #expect(fm.fileExists(atPath: out + "/assets/logo.txt"))
        #expect(fm.fileExists(atPath: out + "/assets/notes.md"), "the main context's ignore files don't apply")
        #expect(fm.fileExists(atPath: out + "/assets/tmp/keep.txt"), "a ! exception re-includes")
        #expect(!fm.fileExists(atPath: out + "/assets/key.secret"))
        #expect(!fm.fileExists(atPath: out + "/assets/tmp/junk.txt"))
        var st = stat()
        #expect(lstat(out + "/assets/logo.txt", &st) == 0 && st.st_uid == 0 && st.st_gid == 0,
                "local context files land owned by root, as BuildKit sends them")
        let listing = (try? String(contentsOfFile: out + "/mount-listing.txt", encoding: .utf8)) ?? ""
        #expect(listing.contains("logo.txt") && listing.contains("keep.txt"), "\(listing)")
        #expect(!listing.contains("key.secret") && !listing.contains("junk.txt"), "\(listing)")

        // Naming an ignored file is the usual not-found error.
        try s.write("Dockerfile", "FROM busybox:latest\nCOPY --from=assets key.secret /k\n")
        let bad = try await s.build(["--build-context", "assets=\(assets)"])
        #expect(bad.status != 0 && bad.stderr.contains("excluded by .dockerignore"), "\(bad.stderr)")

        // Editing the ignore file changes what is copied (and so the cache key).
        try put(".dockerignore", "tmp/\n")
        try s.write("Dockerfile", "FROM busybox:latest\nCOPY --from=assets . /assets/\n")
        let out2 = s.root + "/rootfs2"
        let again = try await s.build(["--build-context", "assets=\(assets)", "--output", "type=local,dest=\(out2)"])
        #expect(again.status == 0, "\(again.combined)")
        #expect(fm.fileExists(atPath: out2 + "/assets/key.secret") && !fm.fileExists(atPath: out2 + "/assets/tmp"))

        // A malformed pattern names the named context's ignore file.
        try put(".dockerignore", "a[b\n")
        let malformed = try await s.build(["--build-context", "assets=\(assets)"])
        #expect(malformed.status != 0 && malformed.stderr.contains(assets + "/.dockerignore"), "\(malformed.stderr)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }
}
