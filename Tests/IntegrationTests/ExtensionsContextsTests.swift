import Foundation
import Testing
import TestSupport

/// Named build contexts (directory, docker-image://, oci-layout://) with COPY --parents,
/// --exclude and --link in one build; the file tree is checked.
@Suite("Extensions: named contexts and COPY flags", .serialized, .requires(BuildHarness.requirements))
struct ExtensionsContextsTests {
    static let dockerfile = """
        # syntax=docker/dockerfile:1.7-labs
        FROM layout AS fromlayout
        RUN echo via-layout > /layout.txt

        FROM base
        COPY --from=assets logo.txt /assets/logo.txt
        COPY --from=fromlayout /layout.txt /layout.txt
        COPY --parents src/a/one.txt src/b/two.txt /tree/
        COPY --exclude=*.log logs/ /logs/
        COPY --link hello.txt /linked/hello.txt
        RUN --mount=type=bind,from=assets,target=/a cat /a/logo.txt > /from-assets-mount.txt
        """

    @Test("FROM/COPY --from/--mount from named contexts; --parents, --exclude, --link")
    func namedContexts() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("Dockerfile", Self.dockerfile)
        try s.write("src/a/one.txt", "one\n")
        try s.write("src/b/two.txt", "two\n")
        try s.write("logs/keep.txt", "keep\n")
        try s.write("logs/drop.log", "drop\n")
        try s.write("hello.txt", "hello\n")
        let assets = s.root + "/assets"
        try FileManager.default.createDirectory(atPath: assets, withIntermediateDirectories: true)
        try "logo\n".write(toFile: assets + "/logo.txt", atomically: true, encoding: .utf8)
        // An OCI layout of busybox, from `slipway save`.
        let archive = s.root + "/bb.tar"
        let save = try await BuildHarness.run([BuildHarness.binary, "save", "--root", s.store, "-o", archive, "busybox:latest"])
        #expect(save.status == 0, "\(save.combined)")
        let layout = s.root + "/layout"
        try FileManager.default.createDirectory(atPath: layout, withIntermediateDirectories: true)
        try await BuildHarness.run(["/bin/tar", "-xf", archive, "-C", layout])

        let out = s.root + "/rootfs"
        let r = try await s.build(["--build-context", "assets=\(assets)", "--build-context", "base=docker-image://busybox:latest",
                             "--build-context", "layout=oci-layout://\(layout)", "--output", "type=local,dest=\(out)"])
        #expect(r.status == 0, "\(r.combined)")
        func file(_ p: String) -> String { (try? String(contentsOfFile: out + p, encoding: .utf8)) ?? "<missing \(p)>" }
        #expect(file("/assets/logo.txt") == "logo\n")
        #expect(file("/from-assets-mount.txt") == "logo\n")
        #expect(file("/layout.txt") == "via-layout\n")
        #expect(file("/tree/src/a/one.txt") == "one\n")
        #expect(file("/tree/src/b/two.txt") == "two\n")
        #expect(file("/logs/keep.txt") == "keep\n")
        #expect(!FileManager.default.fileExists(atPath: out + "/logs/drop.log"))
        #expect(file("/linked/hello.txt") == "hello\n")
        #expect(FileManager.default.fileExists(atPath: out + "/bin/busybox"), "FROM base is busybox")

        // Changing the named directory re-runs the steps that read it.
        try "logo v2\n".write(toFile: assets + "/logo.txt", atomically: true, encoding: .utf8)
        let again = try await s.build(["--build-context", "assets=\(assets)", "--build-context", "base=docker-image://busybox:latest",
                                 "--build-context", "layout=oci-layout://\(layout)", "--output", "type=local,dest=\(out)2"])
        #expect(again.status == 0, "\(again.combined)")
        #expect((try? String(contentsOfFile: out + "2/from-assets-mount.txt", encoding: .utf8)) == "logo v2\n")

        // A tag the layout does not hold is an error naming the layout (ImageCopy from OCILayoutSource).
        let noTag = try await s.build(["--build-context", "assets=\(assets)", "--build-context", "base=docker-image://busybox:latest",
                                       "--build-context", "layout=oci-layout://\(layout):nosuch"])
        #expect(noTag.status != 0 && noTag.stderr.contains("has no image 'nosuch'") && noTag.stderr.contains(layout), "\(noTag.stderr)")

        let bad = try await s.build(["--build-context", "assets=\(s.root)/no-such-dir"])
        #expect(bad.status != 0 && bad.stderr.contains("not a directory"), "\(bad.stderr)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }
}
