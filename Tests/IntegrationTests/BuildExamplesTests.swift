import Foundation
import Testing

/// The article's Dockerfiles (../shared/seed): Go, Node and Python, built over Debian bases made
/// by scripts/fixtures.sh and imported under the names the article uses.
@Suite("Build: the article's examples", .serialized)
struct BuildExamplesTests {
    static let goDockerfile = """
        # ---- Build Stage ----
        FROM golang:1.22-bookworm AS builder
        WORKDIR /app
        # Cache dependencies
        COPY go.mod go.sum ./
        RUN go mod download
        # Build static binary
        COPY . .
        RUN CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \\
        go build -ldflags='-w -s -extldflags "-static"' \\
        -o /app/server ./cmd/server
        # ---- Production Stage ----
        FROM scratch
        # Copy CA certificates for HTTPS
        COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
        # Copy the static binary
        COPY --from=builder /app/server /server
        EXPOSE 8080
        ENTRYPOINT ["/server"]
        """

    static let goSingleStage = """
        FROM golang:1.22-bookworm
        WORKDIR /app
        COPY . .
        RUN CGO_ENABLED=0 go build -o /app/server ./cmd/server
        EXPOSE 8080
        ENTRYPOINT ["/app/server"]
        """

    static let goServer = """
        package main

        import (
        \t"fmt"
        \t"net/http"
        \t"os"
        )

        func main() {
        \taddr := ":8080"
        \tif p := os.Getenv("PORT"); p != "" {
        \t\taddr = ":" + p
        \t}
        \thttp.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
        \t\tfmt.Fprintln(w, "ok")
        \t})
        \tif err := http.ListenAndServe(addr, nil); err != nil {
        \t\tfmt.Fprintln(os.Stderr, err)
        \t\tos.Exit(1)
        \t}
        }
        """

    /// Polls `url` until it answers or `seconds` pass.
    static func fetch(_ url: String, seconds: Double) throws -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let r = try BuildHarness.run(["/usr/bin/curl", "-fsS", "--max-time", "2", url])
            if r.status == 0 { return r.stdout }
            Thread.sleep(forTimeInterval: 0.3)
        }
        return nil
    }

    static func size(_ r: BuildHarness.Result) -> String {
        r.stdout.components(separatedBy: "size: ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
    }

    @Test("Go: builder on Debian+Go, FROM scratch final with CA certs and a static binary that serves /health")
    func goExample() throws {
        if let why = BuildHarness.skipReason { print("skipping: \(why)"); return }
        let s = try BuildSandbox()
        try s.importFixture("debian-go", as: "golang:1.22-bookworm")
        try s.write("Dockerfile", Self.goDockerfile)
        try s.write("go.mod", "module example.com/server\n\ngo 1.19\n")
        try s.write("go.sum", "")
        try s.write("cmd/server/main.go", Self.goServer)
        try s.write(".dockerignore", "Dockerfile*\n")

        let r = try s.build(["-t", "goapp:prod"])
        #expect(r.status == 0, "\(r.combined)")
        guard r.status == 0 else { return }
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")

        let inspect = try s.slipway(["inspect", "goapp:prod"])
        #expect(inspect.stdout.contains("\"/server\""), "\(inspect.stdout)")
        #expect(inspect.stdout.contains("8080/tcp"))
        let history = try s.slipway(["history", "--no-trunc", "goapp:prod"])
        #expect(history.stdout.contains("COPY /app/server /server # buildkit"), "\(history.stdout)")
        #expect(!history.stdout.contains("go build"), "the builder's steps stay out of the final image")

        // The image runs: its health endpoint answers.
        let port = 18_000 + Int.random(in: 0..<2000)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: BuildHarness.binary)
        server.arguments = ["run", "--root", s.store, "-e", "PORT=\(port)", "goapp:prod"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        let answer = try Self.fetch("http://127.0.0.1:\(port)/health", seconds: 20)
        server.terminate()
        server.waitUntilExit()
        #expect(answer == "ok\n", "health endpoint answered \(answer ?? "nothing")")

        // Single-stage variant: same program, the whole toolchain in the image.
        try s.write("Dockerfile.single", Self.goSingleStage)
        let single = try s.build(["-f", s.context + "/Dockerfile.single", "-t", "goapp:single"])
        #expect(single.status == 0, "\(single.combined)")
        print("Go example: multi-stage image \(Self.size(r)), single-stage image \(Self.size(single))")

        // No change: nothing runs. One source edited: only the steps from `COPY . .` on.
        let again = try s.slipway(["build", "--progress", "json", "-t", "goapp:prod", s.context])
        #expect(BuildSandbox.ranSteps(again).filter { !$0.contains("FROM") }.isEmpty, "\(again.stderr)")
        try s.write("cmd/server/main.go", Self.goServer.replacingOccurrences(of: "\"ok\"", with: "\"ok v2\""))
        let edited = try s.slipway(["build", "--progress", "json", "-t", "goapp:prod", s.context])
        let ran = BuildSandbox.ranSteps(edited)
        #expect(!ran.contains { $0.contains("go mod download") }, "\(ran)")
        #expect(ran.contains { $0.contains("go build") }, "\(ran)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }
}
