import Foundation
import Testing
import TestSupport

/// `build --platform` (issue #14): an arm64 busybox base (Debian's busybox-static:arm64,
/// `import --platform linux/arm64`), RUN emulated through qemu-aarch64 in binfmt_misc, the
/// automatic platform ARGs, the platform in every cache key, and the errors when emulation is
/// missing or crashes. Written for an amd64 machine (CI's): arm64 is the foreign platform.
@Suite("Build: --platform, emulated RUN", .serialized,
       .requires(BuildHarness.requirements + [.binfmt("aarch64")]))
struct BuildMultiPlatformTests {
    /// A sandbox with `bb:amd64` (the host busybox) and `bb:arm64` (busybox-static:arm64).
    func sandbox() async throws -> BuildSandbox {
        let s = try BuildSandbox()
        try await s.importFixture("busybox", as: "bb:amd64")
        let arm = try await BuildHarness.fixture("busybox-arm64")
        let r = try await s.slipway(["import", "--platform", "linux/arm64", arm + "/rootfs.tar", "bb:arm64"])
        #expect(r.status == 0, "\(r.combined)")
        return s
    }

    @Test("build --platform linux/arm64: RUN uname -m runs emulated (aarch64), the config says arm64")
    func emulatedRun() async throws {
        let s = try await sandbox()
        try s.write("Dockerfile", "FROM bb:arm64\nRUN uname -m > /arch\n")
        let b = try await s.build(["--platform", "linux/arm64", "-t", "app:arm64"])
        #expect(b.status == 0, "\(b.combined)")
        let arch = try await s.slipway(["run", "--rm", "app:arm64", "cat", "/arch"])
        #expect(arch.stdout == "aarch64\n", "\(arch.combined)")
        let inspect = try await s.slipway(["inspect", "app:arm64"])
        #expect(inspect.stdout.contains("\"Architecture\" : \"arm64\""), "\(inspect.stdout)")
        #expect(!inspect.stdout.contains("\"Variant\""), "arm64's v8 is implied: \(inspect.stdout)")
        // run --platform checks the image's platform (the store holds one per name).
        #expect(try await s.slipway(["run", "--rm", "--platform", "linux/arm64", "app:arm64", "uname", "-m"]).stdout == "aarch64\n")
        let wrong = try await s.slipway(["run", "--rm", "--platform", "linux/amd64", "app:arm64", "true"])
        #expect(wrong.status != 0 && wrong.stderr.contains("app:arm64 is linux/arm64, not linux/amd64"), "\(wrong.combined)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }

    @Test("a cached amd64 RUN is never served for arm64, nor the other way; each platform's rebuild is cached")
    func cachePerPlatform() async throws {
        let s = try await sandbox()
        try s.write("Dockerfile", "ARG TARGETARCH\nFROM bb:${TARGETARCH}\nRUN uname -m > /arch\n")
        func build(_ platform: String, tag: String) async throws -> BuildHarness.Result {
            let r = try await s.slipway(["build", "--progress", "json", "--platform", platform, "-t", tag, s.context])
            #expect(r.status == 0, "\(r.combined)")
            return r
        }
        let run = "[2/2] RUN uname -m > /arch"
        #expect(BuildSandbox.ranSteps(try await build("linux/amd64", tag: "a:amd64")).contains(run))
        #expect(BuildSandbox.ranSteps(try await build("linux/arm64", tag: "a:arm64")).contains(run), "amd64's record served arm64")
        #expect(!BuildSandbox.ranSteps(try await build("linux/amd64", tag: "a:amd64")).contains(run))
        #expect(!BuildSandbox.ranSteps(try await build("linux/arm64", tag: "a:arm64")).contains(run))
        #expect(try await s.slipway(["run", "--rm", "a:amd64", "cat", "/arch"]).stdout == "x86_64\n")
        #expect(try await s.slipway(["run", "--rm", "a:arm64", "cat", "/arch"]).stdout == "aarch64\n")
    }

    @Test("platform ARGs as BuildKit sets them; FROM --platform=$BUILDPLATFORM builds natively; arm means arm/v7")
    func platformArgs() async throws {
        let s = try await sandbox()
        try s.write("Dockerfile", """
            FROM --platform=$BUILDPLATFORM bb:amd64 AS build
            ARG BUILDPLATFORM BUILDOS BUILDARCH BUILDVARIANT TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT
            RUN echo "$BUILDPLATFORM|$BUILDOS|$BUILDARCH|$BUILDVARIANT|$TARGETPLATFORM|$TARGETOS|$TARGETARCH|$TARGETVARIANT|$(uname -m)" > /args
            FROM scratch
            COPY --from=build /args /args

            """)
        let cases = [
            ("linux/arm64", "linux/amd64|linux|amd64||linux/arm64|linux|arm64||x86_64\n", "arm64", nil),
            ("linux/arm64/v8", "linux/amd64|linux|amd64||linux/arm64|linux|arm64||x86_64\n", "arm64", nil),
            ("linux/aarch64", "linux/amd64|linux|amd64||linux/arm64|linux|arm64||x86_64\n", "arm64", nil),
            ("linux/arm", "linux/amd64|linux|amd64||linux/arm/v7|linux|arm|v7|x86_64\n", "arm", "v7"),
            ("linux/arm/v7", "linux/amd64|linux|amd64||linux/arm/v7|linux|arm|v7|x86_64\n", "arm", "v7"),
            ("linux/amd64", "linux/amd64|linux|amd64||linux/amd64|linux|amd64||x86_64\n", "amd64", nil),
        ]
        for (platform, expected, arch, variant) in cases {
            let out = s.root + "/out-" + platform.replacingOccurrences(of: "/", with: "-")
            let b = try await s.build(["--platform", platform, "-t", "args:1", "-o", "type=local,dest=" + out])
            #expect(b.status == 0, "\(platform): \(b.combined)")
            #expect(try String(contentsOfFile: out + "/args", encoding: .utf8) == expected, "\(platform)")
            let inspect = try await s.slipway(["inspect", "args:1"]).stdout
            #expect(inspect.contains("\"Architecture\" : \"\(arch)\""), "\(platform): \(inspect)")
            #expect(inspect.contains("\"Variant\" : \"v7\"") == (variant != nil), "\(platform): \(inspect)")
        }
        let bad = try await s.build(["--platform", "linux//arm"])
        #expect(bad.status != 0 && bad.stderr.contains("invalid --platform \"linux//arm\""), "\(bad.combined)")
        let several = try await s.build(["--platform", "linux/amd64,linux/arm64"])
        #expect(several.status != 0 && several.stderr.contains("one platform per build"), "\(several.combined)")
    }

    @Test("a base of another platform: an error with --platform, BuildKit's InvalidBaseImagePlatform warning without")
    func basePlatform() async throws {
        let s = try await sandbox()
        try s.write("Dockerfile", "FROM bb:amd64\nRUN true\n")
        let wrong = try await s.build(["--platform", "linux/arm64"])
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("Dockerfile:1: FROM bb:amd64: the store's bb:amd64 is linux/amd64, not linux/arm64 (build --platform linux/arm64)"),
                "\(wrong.stderr)")
        try s.write("Dockerfile", "FROM bb:arm64\nRUN uname -m > /arch\n")
        let warned = try await s.build(["-t", "w:1"])
        #expect(warned.status == 0, "\(warned.combined)")
        #expect(warned.stderr.contains("InvalidBaseImagePlatform: Base image bb:arm64 was pulled with platform \"linux/arm64\", expected \"linux/amd64\" for current build (Dockerfile:1)"),
                "\(warned.stderr)")
        #expect(warned.stderr.contains(" - InvalidBaseImagePlatform: Base image bb:arm64"), "counted in the summary: \(warned.stderr)")
        #expect(try await s.slipway(["run", "--rm", "w:1", "cat", "/arch"]).stdout == "aarch64\n")
        try s.write("Dockerfile", "# check=skip=InvalidBaseImagePlatform\nFROM bb:arm64\nRUN uname -m > /arch\n")
        let skipped = try await s.build([])
        #expect(skipped.status == 0 && !skipped.stderr.contains("InvalidBaseImagePlatform"), "\(skipped.combined)")
        try s.write("Dockerfile", "# check=error=true\nFROM bb:arm64\nRUN uname -m > /arch\n")
        let failed = try await s.build([])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("error: Dockerfile:2: InvalidBaseImagePlatform: Base image bb:arm64 was pulled with platform"), "\(failed.stderr)")
    }

    @Test("no interpreter registered: the error names qemu-aarch64 and how to install and register it; a crash is reported as one")
    func missingInterpreterAndCrash() async throws {
        let s = try await sandbox()
        // A binfmt_misc of our own (never the machine's): mounted but empty, then an entry without F.
        let fake = s.root + "/binfmt_misc"
        try FileManager.default.createDirectory(atPath: fake, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: fake + "/register", contents: nil))
        try s.write("Dockerfile", "FROM bb:arm64\nRUN true\n")
        let argv = [BuildHarness.binary, "build", "--root", s.store, "--platform", "linux/arm64", s.context]
        let none = try await BuildHarness.run(argv, env: ["SLIPWAY_BINFMT_MISC": fake])
        #expect(none.status == 1)
        #expect(none.stderr.contains("Dockerfile:2: RUN true: this stage's platform is linux/arm64, which needs the emulator qemu-aarch64, "
                                     + "and none is registered in binfmt_misc"), "\(none.stderr)")
        #expect(none.stderr.contains("apt-get install qemu-user-static binfmt-support"), "\(none.stderr)")
        try "enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: OC\n".write(toFile: fake + "/qemu-aarch64", atomically: true, encoding: .utf8)
        let noF = try await BuildHarness.run(argv, env: ["SLIPWAY_BINFMT_MISC": fake])
        #expect(noF.status == 1)
        #expect(noF.stderr.contains("registered (\(fake)/qemu-aarch64) without the F flag (flags: OC)"), "\(noF.stderr)")

        // The emulated process dies of SIGSEGV: a build error saying so (not a crash of slipway).
        try s.write("Dockerfile", "FROM bb:arm64\nRUN sh -c 'kill -SEGV $$' || exit $?\n")
        let crash = try await s.build(["--platform", "linux/arm64"])
        #expect(crash.status == 1, "\(crash.combined)")
        #expect(crash.stderr.contains("exited with code 139"), "\(crash.stderr)")
        #expect(crash.stderr.contains("note: the step ran under emulation (qemu-aarch64) and was killed by SIGSEGV"), "\(crash.stderr)")
        // The same as the container's init (PID 1): QEMU would wait forever; the step ends as 139.
        try s.write("Dockerfile", "FROM bb:arm64\nRUN [\"/bin/sh\", \"-c\", \"kill -SEGV $$\"]\n")
        let initCrash = try await s.build(["--platform", "linux/arm64"])
        #expect(initCrash.status == 1, "\(initCrash.combined)")
        #expect(initCrash.stderr.contains("exited with code 139") && initCrash.stderr.contains("killed by SIGSEGV"), "\(initCrash.stderr)")
        #expect(initCrash.seconds < 20, "took \(initCrash.seconds) s")
        // A crash of a child leaves the init alone: the step goes on.
        try s.write("Dockerfile", "FROM bb:arm64\nRUN sh -c 'kill -SEGV $$'; sleep 1; echo survived\n")
        let childCrash = try await s.build(["--platform", "linux/arm64"])
        #expect(childCrash.status == 0 && childCrash.stderr.contains("survived"), "\(childCrash.combined)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }

    @Test("FROM of a registry index pulls the target platform's manifest: arm64 for --platform linux/arm64, amd64 for linux/amd64",
          .requires(TestRegistry.prerequisites))
    func fromIndex() async throws {
        let s = try await sandbox()
        let registry = try await TestRegistry()
        let host = registry.host
        // Both images pushed, then an OCI index over them put with curl (Slipway pushes single images).
        var children: [String] = []
        for arch in ["amd64", "arm64"] {
            #expect(try await s.slipway(["tag", "bb:\(arch)", "\(host)/multi/bb:\(arch)"]).status == 0)
            let push = try await s.slipway(["push", "\(host)/multi/bb:\(arch)"])
            #expect(push.status == 0, "\(push.combined)")
            let head = try await BuildHarness.run(["/usr/bin/curl", "-sfI", "-H",
                "Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
                "http://\(host)/v2/multi/bb/manifests/\(arch)"])
            func header(_ name: String) -> String {
                head.stdout.split(separator: "\r\n").first { $0.lowercased().hasPrefix(name.lowercased() + ":") }
                    .map { String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) } ?? ""
            }
            children.append("{\"mediaType\":\"\(header("Content-Type"))\",\"digest\":\"\(header("Docker-Content-Digest"))\",\"size\":\(header("Content-Length")),"
                            + "\"platform\":{\"os\":\"linux\",\"architecture\":\"\(arch)\"}}")
        }
        let index = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[\(children.joined(separator: ","))]}"
        let put = try await BuildHarness.run(["/usr/bin/curl", "-sf", "-X", "PUT", "-H", "Content-Type: application/vnd.oci.image.index.v1+json",
                                              "--data-binary", index, "http://\(host)/v2/multi/bb/manifests/both"])
        #expect(put.status == 0, "\(index): \(put.combined)")

        try s.write("Dockerfile", "FROM \(host)/multi/bb:both\nRUN uname -m > /arch\n")
        for (platform, machine) in [("linux/arm64", "aarch64"), ("linux/amd64", "x86_64")] {
            let store = s.root + "/store-" + machine
            let b = try await BuildHarness.run([BuildHarness.binary, "build", "--root", store, "--progress", "plain",
                                                "--platform", platform, "-t", "from-index:1", s.context])
            #expect(b.status == 0, "\(platform): \(b.combined)")
            let arch = try await BuildHarness.run([BuildHarness.binary, "run", "--root", store, "--rm", "from-index:1", "cat", "/arch"])
            #expect(arch.stdout == machine + "\n", "\(platform): \(arch.combined)")
        }
    }
}
