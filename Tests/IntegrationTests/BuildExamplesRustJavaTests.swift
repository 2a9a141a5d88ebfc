import Foundation
import Testing
import TestSupport

/// The article's Rust and Java examples (`ArticleExamples`), each built from a fresh store over
/// the stand-in bases of scripts/fixtures.sh, run, and rebuilt after a source-only edit: the
/// dependency steps (the dummy `main.rs` build; `mvn dependency:resolve` and the runtime stage's
/// dependency layer) must stay CACHED, and the final image must hold no build toolchain.
@Suite("Build: the article's Rust and Java examples", .serialized)
struct BuildExamplesRustJavaTests {
    static let rustFixtures = ["debian-rust", "debian"]
    static let javaFixtures = ["debian-java", "debian-jre"]

    /// Why a test over `fixtures` cannot run here (nil when it can): root, the built binary and
    /// runc, curl for the health probe, and each fixture cached or mmdebstrap to make it. A
    /// fixture that mmdebstrap then fails to build is a failure, not a skip.
    static func missing(fixtures: [String]) -> String? {
        if let why = BuildHarness.requirements.first(where: { !$0.isMet }) { return why.missing }
        if !FileManager.default.isExecutableFile(atPath: "/usr/bin/curl") { return "curl not installed (the /health probe)" }
        let root = ProcessInfo.processInfo.environment["SLIPWAY_FIXTURES"] ?? "/var/cache/slipway-fixtures"
        let uncached = fixtures.filter { !FileManager.default.fileExists(atPath: "\(root)/\($0)/rootfs.tar") }
        if !uncached.isEmpty, !["/usr/bin/mmdebstrap", "/usr/local/bin/mmdebstrap"].contains(where: FileManager.default.isExecutableFile(atPath:)) {
            return "fixtures \(uncached.joined(separator: ", ")) not cached and mmdebstrap not installed"
        }
        return nil
    }

    /// `slipway build --progress json`: the result event's image size (stdout) and the step
    /// events (stderr).
    struct JSONBuild {
        var result: BuildHarness.Result
        var size: Int64?
        var events: [[String: Any]] { BuildSandbox.events(result) }

        /// "started" (ran) or "cached" for the first step whose name contains `text`.
        func outcome(_ text: String) -> String? {
            events.first { ($0["name"] as? String)?.contains(text) == true
                && ["started", "cached"].contains($0["event"] as? String) }?["event"] as? String
        }
    }

    static func build(_ s: BuildSandbox, _ args: [String]) async throws -> JSONBuild {
        let r = try await s.slipway(["build", "--progress", "json"] + args + [s.context])
        let size = r.stdout.split(separator: "\n").compactMap { line -> Int64? in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  o["event"] as? String == "result" else { return nil }
            return (o["size"] as? NSNumber)?.int64Value
        }.last
        return JSONBuild(result: r, size: size)
    }

    static func mb(_ bytes: Int64?) -> String {
        guard let bytes else { return "?" }
        return String(format: "%.1f MB", Double(bytes) / 1_000_000)
    }

    static func output(_ r: BuildHarness.Result, tail: Int = 60) -> String {
        // The step output (json events) is what explains a failed build; keep the tail readable.
        let lines = r.stderr.split(separator: "\n").compactMap { line -> String? in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return String(line) }
            if let l = o["line"] as? String { return l }
            if let e = o["error"] as? String { return "ERROR: " + e }
            return nil
        }
        return r.stdout + lines.suffix(tail).joined(separator: "\n")
    }

    @Test("Rust: the article's Dockerfile verbatim; dummy-main dependency build CACHED after a source edit, slim image serves /health, no cargo/rustc",
          .enabled(if: BuildExamplesRustJavaTests.missing(fixtures: BuildExamplesRustJavaTests.rustFixtures) == nil,
                   Comment(rawValue: BuildExamplesRustJavaTests.missing(fixtures: BuildExamplesRustJavaTests.rustFixtures) ?? "")),
          .timeLimit(.minutes(30)))
    func rustExample() async throws {
        let s = try BuildSandbox()
        // The stand-ins under the article's names (Rust 1.63 from Debian; bookworm minbase for slim).
        try await s.importFixture("debian-rust", as: "rust:1.76-bookworm")
        try await s.importFixture("debian", as: "debian:bookworm-slim")
        try ArticleExamples.writeRustProject(to: s.context, health: "ok")

        let first = try await Self.build(s, ["-t", "myapp:prod"])
        try #require(first.result.status == 0, "\(Self.output(first.result))")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
        let inspect = try await s.slipway(["inspect", "myapp:prod"])
        #expect(inspect.stdout.contains("\"myapp\""), "\(inspect.stdout)")
        #expect(inspect.stdout.contains("3000/tcp"), "\(inspect.stdout)")
        let history = try await s.slipway(["history", "--no-trunc", "myapp:prod"])
        #expect(!history.stdout.contains("cargo build"), "the builder's steps stay out of the final image: \(history.stdout)")

        let port = 24_000 + Int.random(in: 0..<2000)
        let answer = try await BuildExamplesTests.health(store: s.store, run: ["-e", "PORT=\(port)", "myapp:prod"], port: port, seconds: 20)
        #expect(answer == "ok\n", "health endpoint answered \(answer ?? "nothing")")

        // No toolchain in the final image; the builder has one (so the probe means something).
        let probe = "for t in cargo rustc cc; do command -v $t; done; ls -d /usr/share/cargo/registry 2>/dev/null; echo end"
        let final = try await s.slipway(["run", "myapp:prod", "sh", "-c", probe])
        #expect(final.status == 0 && final.stdout == "end\n", "the final image has a Rust toolchain: \(final.combined)")
        let builder = try await Self.build(s, ["--target", "builder", "-t", "myapp:builder"])
        #expect(builder.result.status == 0, "\(Self.output(builder.result))")
        let tools = try await s.slipway(["run", "myapp:builder", "sh", "-c", probe])
        #expect(tools.stdout.contains("/usr/bin/cargo") && tools.stdout.contains("/usr/bin/rustc"), "\(tools.combined)")
        print("Rust example: final image \(Self.mb(first.size)), builder image \(Self.mb(builder.size)), cold build \(String(format: "%.1f", first.result.seconds)) s")
        if let f = first.size, let b = builder.size { #expect(f * 2 < b, "the final image is not much smaller than the builder") }

        // A source-only edit: the dependency build (dummy main.rs) stays CACHED, the app rebuilds,
        // and the new binary (not the dummy's) is what runs.
        try ArticleExamples.writeRustProject(to: s.context, health: "ok, edited")
        let edited = try await Self.build(s, ["-t", "myapp:prod"])
        #expect(edited.result.status == 0, "\(Self.output(edited.result))")
        #expect(edited.outcome("COPY Cargo.toml Cargo.lock") == "cached", "\(edited.events)")
        #expect(edited.outcome("RUN mkdir src") == "cached", "\(edited.events)")
        #expect(edited.outcome("RUN cargo build --release && rm -rf src") == "cached", "\(edited.events)")
        #expect(edited.outcome("COPY src/") == "started", "\(edited.events)")
        #expect(edited.outcome("RUN apt-get update") == "cached", "\(edited.events)")
        let rebuild = edited.events.first { $0["event"] as? String == "started" && ($0["name"] as? String)?.hasSuffix("RUN cargo build --release") == true }
        #expect(rebuild != nil, "the app is rebuilt: \(edited.events)")
        let log = Self.output(edited.result, tail: .max)
        #expect(log.contains("Compiling myapp"), "\(log)")
        #expect(!log.contains("Compiling httparse") && !log.contains("Compiling itoa"), "dependencies recompiled: \(log)")
        print("Rust example: rebuild after a source edit \(String(format: "%.1f", edited.result.seconds)) s")
        let port2 = 26_000 + Int.random(in: 0..<2000)
        let answer2 = try await BuildExamplesTests.health(store: s.store, run: ["-e", "PORT=\(port2)", "myapp:prod"], port: port2, seconds: 20)
        #expect(answer2 == "ok, edited\n", "health endpoint answered \(answer2 ?? "nothing")")

        // No change: nothing runs, same image.
        let again = try await Self.build(s, ["-t", "myapp:prod"])
        #expect(BuildSandbox.ranSteps(again.result).filter { !$0.contains("FROM") }.isEmpty, "\(again.events)")
        #expect(BuildSandbox.imageID(again.result) == BuildSandbox.imageID(edited.result))
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }

    @Test("Java: builder → extractor → JRE with Maven offline; dependency steps and layer CACHED after a source edit, serves /health as appuser, no javac/maven",
          .enabled(if: BuildExamplesRustJavaTests.missing(fixtures: BuildExamplesRustJavaTests.javaFixtures) == nil,
                   Comment(rawValue: BuildExamplesRustJavaTests.missing(fixtures: BuildExamplesRustJavaTests.javaFixtures) ?? "")),
          .timeLimit(.minutes(30)))
    func javaExample() async throws {
        let s = try BuildSandbox()
        // The stand-ins under the article's names (Debian's OpenJDK 17 JDK + maven; its JRE).
        try await s.importFixture("debian-java", as: "eclipse-temurin:21-jdk-jammy")
        try await s.importFixture("debian-jre", as: "eclipse-temurin:21-jre-jammy")
        try ArticleExamples.writeJavaProject(to: s.context, health: "ok")

        let first = try await Self.build(s, ["-t", "javaapp:prod"])
        try #require(first.result.status == 0, "\(Self.output(first.result))")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
        let inspect = try await s.slipway(["inspect", "javaapp:prod"])
        #expect(inspect.stdout.contains("\"User\" : \"appuser\""), "\(inspect.stdout)")
        #expect(inspect.stdout.contains("8080/tcp"), "\(inspect.stdout)")
        #expect(inspect.stdout.contains("com.example.health.HealthServer"), "\(inspect.stdout)")
        let history = try await s.slipway(["history", "--no-trunc", "javaapp:prod"])
        #expect(history.stdout.contains("COPY /app/dependencies/ ./ # buildkit"), "\(history.stdout)")
        #expect(history.stdout.contains("COPY /app/application/ ./ # buildkit"), "\(history.stdout)")
        #expect(!history.stdout.contains("mvn"), "the builder's steps stay out of the final image: \(history.stdout)")

        // The layers: dependency jars in one, the application's classes in the other.
        let files = try await s.slipway(["run", "--entrypoint", "/bin/sh", "javaapp:prod", "-c",
                                         "ls /app/lib; ls /app/com/example/health; ls /app/lib/*.jar >/dev/null && echo jars"])
        #expect(files.stdout.contains("commons-lang3") && files.stdout.contains("HealthServer.class"), "\(files.combined)")

        let port = 28_000 + Int.random(in: 0..<2000)
        let answer = try await BuildExamplesTests.health(store: s.store, run: ["-e", "PORT=\(port)", "javaapp:prod"], port: port, seconds: 40)
        #expect(answer == "ok\n", "health endpoint answered \(answer ?? "nothing")")

        let probe = "for t in javac mvn jar; do command -v $t; done; ls /usr/lib/jvm/*/bin/javac /usr/share/maven 2>/dev/null; command -v java >/dev/null && echo java"
        let final = try await s.slipway(["run", "--entrypoint", "/bin/sh", "javaapp:prod", "-c", probe])
        #expect(final.stdout == "java\n", "the final image has a JDK or maven (or no java): \(final.combined)")
        let builder = try await Self.build(s, ["--target", "builder", "-t", "javaapp:builder"])
        #expect(builder.result.status == 0, "\(Self.output(builder.result))")
        let tools = try await s.slipway(["run", "--entrypoint", "/bin/sh", "javaapp:builder", "-c", probe])
        #expect(tools.stdout.contains("/usr/bin/javac") && tools.stdout.contains("/usr/bin/mvn"), "\(tools.combined)")
        print("Java example: final image \(Self.mb(first.size)), builder image \(Self.mb(builder.size)), cold build \(String(format: "%.1f", first.result.seconds)) s")
        if let f = first.size, let b = builder.size { #expect(f < b, "the final image is not smaller than the builder") }

        // A source-only edit: dependency resolution and the runtime's dependency layer stay CACHED.
        try ArticleExamples.writeJavaProject(to: s.context, health: "ok, edited")
        let edited = try await Self.build(s, ["-t", "javaapp:prod"])
        #expect(edited.result.status == 0, "\(Self.output(edited.result))")
        #expect(edited.outcome("COPY pom.xml") == "cached", "\(edited.events)")
        #expect(edited.outcome("RUN mvn -B -q dependency:resolve") == "cached", "\(edited.events)")
        #expect(edited.outcome("RUN mvn -B -q package") == "started", "\(edited.events)")
        #expect(edited.outcome("RUN mkdir dependencies application") == "started", "\(edited.events)")
        #expect(edited.outcome("RUN groupadd") == "cached", "\(edited.events)")
        #expect(edited.outcome("COPY --from=extractor /app/dependencies/") == "cached", "the dependency layer is rebuilt: \(edited.events)")
        #expect(edited.outcome("COPY --from=extractor /app/application/") == "started", "\(edited.events)")
        print("Java example: rebuild after a source edit \(String(format: "%.1f", edited.result.seconds)) s")
        let port2 = 30_000 + Int.random(in: 0..<2000)
        let answer2 = try await BuildExamplesTests.health(store: s.store, run: ["-e", "PORT=\(port2)", "javaapp:prod"], port: port2, seconds: 40)
        #expect(answer2 == "ok, edited\n", "health endpoint answered \(answer2 ?? "nothing")")

        // No change: nothing runs, same image.
        let again = try await Self.build(s, ["-t", "javaapp:prod"])
        #expect(BuildSandbox.ranSteps(again.result).filter { !$0.contains("FROM") }.isEmpty, "\(again.events)")
        #expect(BuildSandbox.imageID(again.result) == BuildSandbox.imageID(edited.result))
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }
}
