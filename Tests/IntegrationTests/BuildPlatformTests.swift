import Foundation
import Testing
import TestSupport

/// `FROM --platform`: the host's platform builds; `scratch` takes the asked-for platform (COPY-only
/// cross images); a store image of another platform than FROM --platform asks for fails clearly,
/// one without any --platform is BuildKit's InvalidBaseImagePlatform warning. Emulated RUN:
/// BuildMultiPlatformTests.
@Suite("Build: FROM --platform", .serialized, .requires(BuildHarness.requirements))
struct BuildPlatformTests {
    @Test("host platform builds; scratch takes the platform; a foreign base fails with a reason or warns")
    func platforms() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "busybox:latest")
        try s.write("f.txt", "payload\n")
        #if arch(x86_64)
        let host = "linux/amd64", foreign = "linux/arm64", foreignArch = "arm64"
        #else
        let host = "linux/arm64", foreign = "linux/amd64", foreignArch = "amd64"
        #endif

        try s.write("Dockerfile", "FROM --platform=$BUILDPLATFORM busybox\nRUN echo ran > /ran\n")
        let native = try await s.build(["-t", "native:1"])
        #expect(native.status == 0, "\(native.combined)")
        try s.write("Dockerfile", "FROM --platform=\(host) busybox\nRUN true\n")
        #expect(try await s.build([]).status == 0)

        try s.write("Dockerfile", "FROM --platform=\(foreign) scratch\nCOPY f.txt /f.txt\n")
        let cross = try await s.build(["-t", "cross:1"])
        #expect(cross.status == 0, "\(cross.combined)")
        let inspect = try await s.slipway(["inspect", "cross:1"])
        #expect(inspect.stdout.contains("\"Architecture\" : \"\(foreignArch)\""), "\(inspect.stdout)")

        // A base of another CPU without any --platform: BuildKit's InvalidBaseImagePlatform
        // warning, and the stage keeps the base's platform (RUN would be emulated).
        try s.write("Dockerfile", "FROM cross:1\nCOPY f.txt /g.txt\n")
        let onForeign = try await s.build(["-t", "cross:2"])
        #expect(onForeign.status == 0, "\(onForeign.combined)")
        #expect(onForeign.stderr.contains("InvalidBaseImagePlatform: Base image cross:1 was pulled with platform \"\(foreign)\", expected \"\(host)\""),
                "\(onForeign.stderr)")
        #expect(try await s.slipway(["inspect", "cross:2"]).stdout.contains("\"Architecture\" : \"\(foreignArch)\""))

        try s.write("Dockerfile", "FROM --platform=\(foreign) busybox\nRUN true\n")
        let wrong = try await s.build([])
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("Dockerfile:1: FROM --platform=\(foreign) busybox: the store's busybox is \(host), not \(foreign)"),
                "\(wrong.stderr)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }
}
