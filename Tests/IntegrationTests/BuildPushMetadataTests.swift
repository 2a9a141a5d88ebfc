import Foundation
import Testing
import TestSupport

/// buildx habits: `--push`, `-o type=image,name=…,push=true`, `-o type=registry`, `-q`,
/// `--metadata-file`, `--iidfile` (gone after a failed build) and `$BUILDKIT_PROGRESS`, against
/// a real docker-registry.
@Suite("Build: push, metadata, quiet and iidfile as buildx", .serialized,
       .requires(BuildHarness.requirements + TestRegistry.prerequisites))
struct BuildPushMetadataTests {
    @Test("push=true, --push and type=registry push every name; the pulled image is the built one")
    func pushAfterBuild() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("Dockerfile", "FROM busybox\nRUN echo pushed > /p.txt\n")
        let registry = try await TestRegistry()
        let meta = s.root + "/meta.json"
        let a = try await s.build(["-o", "type=image,name=\(registry.host)/app:1,push=true", "--metadata-file", meta])
        #expect(a.status == 0, "\(a.combined)")
        let data = try #require(FileManager.default.contents(atPath: meta))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let digest = try #require(object["containerimage.digest"] as? String)
        #expect(digest.hasPrefix("sha256:"))
        #expect((object["containerimage.config.digest"] as? String)?.hasPrefix("sha256:") == true)
        #expect(object["image.name"] as? String == "\(registry.host)/app:1")
        let steps = try #require(object["slipway.steps"] as? [[String: Any]])
        #expect(steps.contains { ($0["name"] as? String)?.contains("RUN echo pushed") == true && $0["status"] as? String == "RAN" }, "\(steps)")

        let other = s.root + "/other"
        let pulled = try await BuildHarness.run([BuildHarness.binary, "pull", "\(registry.host)/app:1", "--root", other])
        #expect(pulled.status == 0, "\(pulled.combined)")
        let inspect = try await BuildHarness.run([BuildHarness.binary, "inspect", "\(registry.host)/app:1", "--root", other])
        #expect(inspect.stdout.contains(digest), "the registry has the built manifest: \(inspect.stdout.prefix(600))")

        let b = try await s.build(["--push", "-t", "\(registry.host)/app:2"])
        #expect(b.status == 0 && b.stderr.contains("pushed \(registry.host)/app:2@"), "\(b.combined)")
        let c = try await s.build(["-o", "type=registry,name=\(registry.host)/app:3"])
        #expect(c.status == 0, "\(c.combined)")
        for tag in ["2", "3"] {
            let head = try await BuildHarness.run(["/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                                   "-H", "Accept: application/vnd.oci.image.manifest.v1+json",
                                                   "http://\(registry.host)/v2/app/manifests/\(tag)"])
            #expect(head.stdout == "200", "tag \(tag): \(head.combined)")
        }

        // Keys that cannot be honoured are refused, not ignored; a push needs a name.
        let zstd = try await s.build(["-o", "type=image,compression=zstd"])
        #expect(zstd.status != 0 && zstd.stderr.contains("compression=zstd is not supported"), "\(zstd.combined)")
        let unknown = try await s.build(["-o", "type=image,oci-mediatypes=true"])
        #expect(unknown.status != 0 && unknown.stderr.contains("unknown key"), "\(unknown.combined)")
        let nameless = try await s.build(["--push"])
        #expect(nameless.status != 0 && nameless.stderr.contains("--push needs a name"), "\(nameless.combined)")
    }

    @Test("-q prints only the ID; a failed build leaves no iidfile; BUILDKIT_PROGRESS picks the progress mode")
    func quietIidfileProgress() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("Dockerfile", "FROM busybox\nRUN echo ok > /ok\n")
        let iid = s.root + "/iid"
        let q = try await s.slipway(["build", "-q", "--iidfile", iid, s.context])
        #expect(q.status == 0, "\(q.combined)")
        let id = q.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.hasPrefix("sha256:") && id.count == 71 && !q.stdout.contains("Built"), "\(q.stdout)")
        #expect((try? String(contentsOfFile: iid, encoding: .utf8)) == id)

        try s.write("Dockerfile", "FROM busybox\nRUN exit 3\n")
        let failed = try await s.slipway(["build", "-q", "--iidfile", iid, s.context])
        #expect(failed.status != 0)
        #expect(!FileManager.default.fileExists(atPath: iid), "the old ID must not outlive a failed build")

        try s.write("Dockerfile", "FROM busybox\nRUN echo json > /j\n")
        let json = try await BuildHarness.run(["/usr/bin/env", "BUILDKIT_PROGRESS=json", BuildHarness.binary, "build", "--root", s.store, s.context])
        #expect(json.status == 0, "\(json.combined)")
        #expect(json.stderr.contains(#""event":"started""#), "\(json.stderr.prefix(400))")
    }
}
