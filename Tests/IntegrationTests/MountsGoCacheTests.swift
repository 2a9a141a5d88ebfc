import Foundation
import Testing
import TestSupport

/// The article's Go cache-mount Dockerfile on the debian-go fixture: a rebuild after a source
/// change takes modules and compiled packages from the cache mounts, and no cache content ever
/// reaches an image.
@Suite("Mounts: the article's Go cache mounts", .serialized, .requires(BuildHarness.requirements + [.mmdebstrap, .python3]))
struct MountsGoCacheTests {
    /// The article's Dockerfile, with a module served from a file:// GOPROXY in the context
    /// (there is no internet here) and GOPROXY=off for the build: it can only find the module
    /// in the module cache the first RUN filled.
    static let dockerfile = """
        # syntax=docker/dockerfile:1
        FROM golang:1.22 AS builder
        ENV GOPATH=/go GOFLAGS=-mod=mod GOSUMDB=off GONOSUMDB=* GOTOOLCHAIN=local
        WORKDIR /app
        COPY go.mod ./
        # Cache the Go module download
        RUN --mount=type=bind,source=goproxy,target=/goproxy \\
            --mount=type=cache,target=/go/pkg/mod \\
            GOPROXY=file:///goproxy go mod download example.com/greet
        COPY . .
        # Cache the Go build cache
        RUN --mount=type=cache,target=/go/pkg/mod \\
            --mount=type=cache,target=/root/.cache/go-build \\
            echo "gocache-before=$(find /root/.cache/go-build -type f | wc -l)" && \\
            echo "modcache-before=$(ls /go/pkg/mod/example.com | wc -l)" && \\
            GOPROXY=off CGO_ENABLED=0 go build -o /app/server ./cmd/server

        FROM scratch
        COPY --from=builder /app/server /server
        CMD ["/server"]
        """

    static let main = """
        package main

        import (
        \t"fmt"
        \t"example.com/greet"
        )

        func main() { fmt.Println(greet.Hello("%@")) }
        """

    func writeProxy(_ s: BuildSandbox) async throws {
        let v = s.context + "/goproxy/example.com/greet/@v"
        try FileManager.default.createDirectory(atPath: v, withIntermediateDirectories: true)
        try "v1.0.0\n".write(toFile: v + "/list", atomically: true, encoding: .utf8)
        try #"{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}"#.write(toFile: v + "/v1.0.0.info", atomically: true, encoding: .utf8)
        try "module example.com/greet\n".write(toFile: v + "/v1.0.0.mod", atomically: true, encoding: .utf8)
        let r = try await BuildHarness.run(["/usr/bin/python3", "-c", """
            import zipfile
            z = zipfile.ZipFile('\(v)/v1.0.0.zip', 'w')
            z.writestr('example.com/greet@v1.0.0/go.mod', 'module example.com/greet\\n')
            z.writestr('example.com/greet@v1.0.0/greet.go', 'package greet\\n\\nfunc Hello(n string) string { return "hello " + n }\\n')
            z.close()
            """])
        #expect(r.status == 0, "\(r.combined)")
    }

    @Test("second build after a source change hits the module and build caches; images hold no cache content")
    func goCacheMounts() async throws {
        let s = try BuildSandbox()
        try await s.importFixture("debian-go", as: "golang:1.22")
        try s.write("Dockerfile", Self.dockerfile)
        try s.write("go.mod", "module example.com/server\n\ngo 1.19\n\nrequire example.com/greet v1.0.0\n")
        try s.write("cmd/server/main.go", Self.main.replacingOccurrences(of: "%@", with: "one"))
        try await writeProxy(s)

        let first = try await s.build(["-t", "goapp:1"])
        #expect(first.status == 0, "\(first.combined)")
        #expect(first.combined.contains("gocache-before=0"), "first build starts with an empty build cache: \(first.combined)")

        try s.write("cmd/server/main.go", Self.main.replacingOccurrences(of: "%@", with: "two"))
        let second = try await s.build(["-t", "goapp:2"])
        #expect(second.status == 0, "\(second.combined)")
        // Module download step is cached; the build step finds the module with GOPROXY=off.
        #expect(second.combined.contains("modcache-before=1"), "\(second.combined)")
        let entries = second.combined.range(of: "gocache-before=[0-9]+", options: .regularExpression)
            .map { Int(second.combined[$0].dropFirst("gocache-before=".count)) ?? 0 } ?? 0
        #expect(entries > 50, "the second build sees the first build's compiled packages (\(entries) entries)")
        print("go build cache entries seen by the second build: \(entries); first \(String(format: "%.1f", first.seconds)) s, second \(String(format: "%.1f", second.seconds)) s")

        let run = try await BuildHarness.run([BuildHarness.binary, "run", "--root", s.store, "--rm", "goapp:2"])
        #expect(run.stdout.contains("hello two"), "\(run.combined)")

        // No cache content in the final image nor in the builder stage's layers.
        let final = s.root + "/final"
        let f = try await s.build(["--output", "type=local,dest=\(final)"])
        #expect(f.status == 0, "\(f.combined)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: final)) == ["server"])
        let builder = s.root + "/builder"
        let b = try await s.build(["--target", "builder", "--output", "type=local,dest=\(builder)"])
        #expect(b.status == 0, "\(b.combined)")
        #expect(FileManager.default.fileExists(atPath: builder + "/app/server"))
        let goMod = (try? FileManager.default.contentsOfDirectory(atPath: builder + "/go/pkg/mod")) ?? []
        let goBuild = (try? FileManager.default.contentsOfDirectory(atPath: builder + "/root/.cache/go-build")) ?? []
        #expect(goMod.isEmpty && goBuild.isEmpty, "cache mount content leaked into a layer: \(goMod) \(goBuild)")

        // The caches live in the store, can be exported, pruned and imported back.
        let ls = try await s.slipway(["cache", "ls"])
        #expect(ls.stdout.contains("/go/pkg/mod") && ls.stdout.contains("/root/.cache/go-build"), "\(ls.combined)")
        let tar = s.root + "/caches.tar"
        let ex = try await s.slipway(["cache", "export", "-o", tar, "--id", "/go/pkg/mod"])
        #expect(ex.status == 0, "\(ex.combined)")
        let pr = try await s.slipway(["prune", "-f", "--cache-mounts"])
        #expect(pr.stdout.contains("Deleted cache mounts: 2"), "\(pr.combined)")
        let im = try await s.slipway(["cache", "import", "-i", tar])
        #expect(im.status == 0 && im.stdout.contains("/go/pkg/mod"), "\(im.combined)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }
}
