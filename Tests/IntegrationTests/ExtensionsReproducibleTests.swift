import Foundation
import Testing
import TestSupport

/// SOURCE_DATE_EPOCH: two clean builds on two stores give the same image.
@Suite("Extensions: reproducible builds with SOURCE_DATE_EPOCH", .serialized, .requires(BuildHarness.requirements))
struct ExtensionsReproducibleTests {
    static let dockerfile = """
        FROM busybox
        ENV APP=repro
        WORKDIR /app
        COPY hello.txt .
        RUN echo built > /app/stamp && mkdir -p /var/lib/demo && touch /var/lib/demo/x
        RUN rm /app/hello.txt
        CMD ["cat", "/app/stamp"]
        """

    @Test("same image ID from two stores (build-arg and environment forms); times are the epoch")
    func identicalDigests() async throws {
        let s = try BuildSandbox()
        try s.write("Dockerfile", Self.dockerfile)
        try s.write("hello.txt", "hello\n")
        let epoch = "1700000000"
        let fixture = try await BuildHarness.fixture("busybox")
        let storeB = s.root + "/store-b"
        var ids: [String] = []
        for (i, store) in [s.store, storeB].enumerated() {
            let imp = try await BuildHarness.run([BuildHarness.binary, "import", "--root", store, fixture + "/rootfs.tar", "busybox:latest"],
                                           env: ["SOURCE_DATE_EPOCH": epoch])
            #expect(imp.status == 0, "\(imp.combined)")
            // Different wall-clock times for the two builds.
            if i == 1 { try await Task.sleep(for: .milliseconds(1100)) }
            let argv = i == 0
                ? [BuildHarness.binary, "build", "--root", store, "--progress", "plain", "--build-arg", "SOURCE_DATE_EPOCH=\(epoch)", "-t", "repro:1", s.context]
                : [BuildHarness.binary, "build", "--root", store, "--progress", "plain", "-t", "repro:1", s.context]
            let r = try await BuildHarness.run(argv, env: i == 1 ? ["SOURCE_DATE_EPOCH": epoch] : [:])
            #expect(r.status == 0, "\(r.combined)")
            if let id = BuildSandbox.imageID(r) { ids.append(id) }
        }
        #expect(ids.count == 2 && ids[0] == ids[1], "image IDs differ: \(ids)")
        let inspect = try await BuildHarness.run([BuildHarness.binary, "inspect", "--root", storeB, "repro:1"])
        #expect(inspect.stdout.contains("2023-11-14T22:13:20Z"), "created is the epoch: \(inspect.stdout)")

        // Without the epoch the same build differs (times are real), so the test can fail.
        try await Task.sleep(for: .milliseconds(1100))
        let plain = try await BuildHarness.run([BuildHarness.binary, "build", "--root", storeB, "--progress", "plain", "-t", "repro:2", s.context])
        #expect(plain.status == 0, "\(plain.combined)")
        #expect(BuildSandbox.imageID(plain) != ids.first, "a build without SOURCE_DATE_EPOCH has its own times")

        let bad = try await BuildHarness.run([BuildHarness.binary, "build", "--root", storeB, "--build-arg", "SOURCE_DATE_EPOCH=yesterday", s.context])
        #expect(bad.status != 0 && bad.stderr.contains("SOURCE_DATE_EPOCH"), "\(bad.stderr)")
    }
}
