import Foundation
import Testing
import TestSupport

/// The article's Dockerfiles (../shared/seed): Go, Node and Python, built over Debian bases made
/// by scripts/fixtures.sh and imported under the names the article uses.
@Suite("Build: the article's examples", .serialized)
struct BuildExamplesTests {
    static let goDockerfile = ArticleDockerfiles.go

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
    /// Starts `slipway run --root STORE ARGS...` in the background, asks its /health endpoint on
    /// `port` (retrying for `seconds`), stops it, and returns the answer.
    static func health(store: String, run args: [String], port: Int, seconds: Double) async throws -> String? {
        let server = Process()
        server.executableURL = URL(fileURLWithPath: BuildHarness.binary)
        server.arguments = ["run", "--root", store] + args
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        let answer: String?
        do {
            answer = try await fetch("http://127.0.0.1:\(port)/health", seconds: seconds)
        } catch {
            server.terminate()
            await Fixtures.waitOffPool(server)
            throw error
        }
        server.terminate()
        await Fixtures.waitOffPool(server)
        return answer
    }

    static func fetch(_ url: String, seconds: Double) async throws -> String? {
        await Fixtures.poll(seconds: seconds, every: 0.3) {
            guard let r = try? BuildHarness.runBlocking(["/usr/bin/curl", "-fsS", "--max-time", "2", url]), r.status == 0 else { return nil }
            return r.stdout
        }
    }

    static func size(_ r: BuildHarness.Result) -> String {
        r.stdout.components(separatedBy: "size: ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
    }

    @Test("Go: builder on Debian+Go, FROM scratch final with CA certs and a static binary that serves /health")
    func goExample() async throws {
        if let why = BuildHarness.skipReason { print("skipping: \(why)"); return }
        let s = try BuildSandbox(sharedStore: BuildSandbox.examplesStore)
        try await s.importFixture("debian-go", as: "golang:1.22-bookworm")
        try s.write("Dockerfile", Self.goDockerfile)
        try s.write("go.mod", "module example.com/server\n\ngo 1.19\n")
        try s.write("go.sum", "")
        try s.write("cmd/server/main.go", Self.goServer)
        try s.write(".dockerignore", "Dockerfile*\n")

        let r = try await s.build(["-t", "goapp:prod"])
        #expect(r.status == 0, "\(r.combined)")
        guard r.status == 0 else { return }
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")

        let inspect = try await s.slipway(["inspect", "goapp:prod"])
        #expect(inspect.stdout.contains("\"/server\""), "\(inspect.stdout)")
        #expect(inspect.stdout.contains("8080/tcp"))
        let history = try await s.slipway(["history", "--no-trunc", "goapp:prod"])
        #expect(history.stdout.contains("COPY /app/server /server # buildkit"), "\(history.stdout)")
        #expect(!history.stdout.contains("go build"), "the builder's steps stay out of the final image")

        // The image runs: its health endpoint answers.
        let port = 18_000 + Int.random(in: 0..<2000)
        let answer = try await Self.health(store: s.store, run: ["-e", "PORT=\(port)", "goapp:prod"], port: port, seconds: 20)
        #expect(answer == "ok\n", "health endpoint answered \(answer ?? "nothing")")

        // Single-stage variant: same program, the whole toolchain in the image.
        try s.write("Dockerfile.single", Self.goSingleStage)
        let single = try await s.build(["-f", s.context + "/Dockerfile.single", "-t", "goapp:single"])
        #expect(single.status == 0, "\(single.combined)")
        print("Go example: multi-stage image \(Self.size(r)), single-stage image \(Self.size(single))")

        // No change: nothing runs. One source edited: only the steps from `COPY . .` on.
        let again = try await s.slipway(["build", "--progress", "json", "-t", "goapp:prod", s.context])
        #expect(BuildSandbox.ranSteps(again).filter { !$0.contains("FROM") }.isEmpty, "\(again.stderr)")
        // A unique edit: the store is shared with other tests, which may have built "ok v2" already
        // (a content-addressed cache would then rightly hit).
        try s.write("cmd/server/main.go", Self.goServer.replacingOccurrences(of: "\"ok\"", with: "\"ok \(UUID().uuidString)\""))
        let edited = try await s.slipway(["build", "--progress", "json", "-t", "goapp:prod", s.context])
        let ran = BuildSandbox.ranSteps(edited)
        #expect(!ran.contains { $0.contains("go mod download") }, "\(ran)")
        #expect(ran.contains { $0.contains("go build") }, "\(ran)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }

    static let nodeDockerfile = ArticleDockerfiles.nodeTypeScript

    @Test("Node: builder + slim stage, non-root user owning the app, HEALTHCHECK in the config, serves /health")
    func nodeExample() async throws {
        if let why = BuildHarness.skipReason { print("skipping: \(why)"); return }
        let s = try BuildSandbox(sharedStore: BuildSandbox.examplesStore)
        try await s.importFixture("debian-node", as: "fixture/debian-node:latest")
        // The official node images' names, over Debian's nodejs; npm told not to phone home (no internet here).
        if try await !s.hasImage("node:20-bookworm") {
            let base = try await BuildHarness.run([BuildHarness.binary, "build", "--root", s.store, "--progress", "plain",
                                             "-t", "node:20-bookworm", "-t", "node:20-bookworm-slim", "-f", "-", s.context],
                                            stdin: "FROM fixture/debian-node:latest\nENV NPM_CONFIG_AUDIT=false NPM_CONFIG_FUND=false NPM_CONFIG_UPDATE_NOTIFIER=false\n")
            #expect(base.status == 0, "\(base.combined)")
        }
        try s.write("Dockerfile", Self.nodeDockerfile)
        try s.writeNodeProject()
        try s.write("src/index.js", """
            const http = require('http');
            const port = process.env.PORT || 3000;
            http.createServer((req, res) => {
              res.writeHead(req.url === '/health' ? 200 : 404);
              res.end(req.url === '/health' ? 'ok' : 'no');
            }).listen(port);
            """)
        let r = try await s.build(["-t", "node:prod"])
        #expect(r.status == 0, "\(r.combined)")
        guard r.status == 0 else { return }
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
        let inspect = try await s.slipway(["inspect", "node:prod"])
        #expect(inspect.stdout.contains("CMD-SHELL"), "\(inspect.stdout)")
        #expect(inspect.stdout.contains("\"User\" : \"appuser\""), "\(inspect.stdout)")
        let owner = try await s.slipway(["run", "node:prod", "stat", "-c", "%U:%G", "/app/dist/index.js"])
        #expect(owner.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "appuser:appuser", "\(owner.combined)")

        let port = 20_000 + Int.random(in: 0..<2000)
        let answer = try await Self.health(store: s.store, run: ["-e", "PORT=\(port)", "node:prod"], port: port, seconds: 20)
        #expect(answer == "ok", "health endpoint answered \(answer ?? "nothing")")
    }

    /// The article's Python Dockerfile plus the HEALTHCHECK the issue asks the config to carry.
    static let pythonDockerfile = ArticleDockerfiles.python.replacingOccurrences(
        of: "CMD [\"uvicorn\"",
        with: "HEALTHCHECK CMD python -c \"import urllib.request; urllib.request.urlopen('http://localhost:8000/health')\"\nCMD [\"uvicorn\"")

    @Test("Python: venv built with gcc in the builder, copied into the slim stage, non-root, uvicorn serves /health")
    func pythonExample() async throws {
        if let why = BuildHarness.skipReason { print("skipping: \(why)"); return }
        let s = try BuildSandbox(sharedStore: BuildSandbox.examplesStore)
        try await s.importFixture("debian-python", as: "fixture/debian-python:latest")
        // The official python images' names over Debian's python3 (with `python` and venv, as they have).
        if try await !s.hasImage("python:3.12-bookworm") {
            let base = try await BuildHarness.run([BuildHarness.binary, "build", "--root", s.store, "--progress", "plain",
                                             "-t", "python:3.12-bookworm", "-t", "python:3.12-slim-bookworm", "-f", "-", s.context],
                                            stdin: """
                                                FROM fixture/debian-python:latest
                                                RUN apt-get update && apt-get install -y --no-install-recommends python3-venv \\
                                                    && ln -s /usr/bin/python3 /usr/local/bin/python && rm -rf /var/lib/apt/lists/*
                                                """)
            #expect(base.status == 0, "\(base.combined)")
            guard base.status == 0 else { return }
        }
        try s.write("Dockerfile", Self.pythonDockerfile)
        try s.write("requirements.txt", "fastapi\nuvicorn\n")
        try s.write("app/__init__.py", "")
        try s.write("app/main.py", """
            from fastapi import FastAPI

            app = FastAPI()


            @app.get("/health")
            def health():
                return {"status": "ok"}
            """)
        // pip reaches the Python package index over HTTPS: trust what this machine trusts.
        let r = try await s.build(["--add-ca-bundle", "-t", "py:prod"])
        #expect(r.status == 0, "\(r.combined)")
        guard r.status == 0 else { return }
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
        let inspect = try await s.slipway(["inspect", "py:prod"])
        #expect(inspect.stdout.contains("\"User\" : \"appuser\""), "\(inspect.stdout)")
        #expect(inspect.stdout.contains("PATH=/opt/venv/bin:"), "\(inspect.stdout)")
        #expect(inspect.stdout.contains("Healthcheck"), "\(inspect.stdout)")
        let gcc = try await s.slipway(["run", "py:prod", "sh", "-c", "command -v gcc || echo no-gcc"])
        #expect(gcc.stdout.contains("no-gcc"), "the production image has no compiler: \(gcc.combined)")

        let port = 22_000 + Int.random(in: 0..<2000)
        let answer = try await Self.health(store: s.store, run: ["py:prod", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", "\(port)"], port: port, seconds: 30)
        #expect(answer?.contains("ok") == true, "health endpoint answered \(answer ?? "nothing")")
    }

    static let targetsDockerfile = """
        ARG BUILD_ENV=production
        # Base build
        FROM node:20-bookworm AS base
        WORKDIR /app
        COPY package*.json ./
        RUN npm ci
        COPY . .
        # Development stage (includes devDeps, source maps, hot reload)
        FROM base AS development
        RUN npm install --include=dev
        CMD ["npm", "run", "dev"]
        # Test stage (runs tests then exits)
        FROM base AS test
        RUN npm install --include=dev
        RUN npm test
        # Production build
        FROM base AS build
        RUN npm run build
        RUN npm prune --production
        # Production image
        FROM node:20-bookworm-slim AS production
        WORKDIR /app
        COPY --from=build /app/dist ./dist
        COPY --from=build /app/node_modules ./node_modules
        COPY --from=build /app/package.json ./
        CMD ["node", "dist/index.js"]
        """

    @Test("--target development|test|production builds only what each needs; a failing test stage fails the build")
    func targets() async throws {
        if let why = BuildHarness.skipReason { print("skipping: \(why)"); return }
        let s = try BuildSandbox(sharedStore: BuildSandbox.examplesStore)
        guard try await s.hasImage("node:20-bookworm") else {
            print("skipping: node:20-bookworm is made by the Node example test")
            return
        }
        try s.write("Dockerfile", Self.targetsDockerfile)
        try s.write("package.json", """
            {"name": "api", "version": "1.0.0", "private": true,
             "scripts": {"build": "mkdir -p dist node_modules && cp index.js dist/", "test": "node test.js",
                         "dev": "node index.js"}}
            """)
        try s.write("package-lock.json", """
            {"name": "api", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
             "packages": {"": {"name": "api", "version": "1.0.0"}}}
            """)
        try s.write("index.js", "console.log('hello')\n")
        try s.write("test.js", "console.log('tests pass')\n")

        func stagesRun(_ r: BuildHarness.Result) -> Set<String> {
            Set(BuildSandbox.events(r).compactMap { e -> String? in
                guard let n = e["name"] as? String, e["event"] as? String == "started" || e["event"] as? String == "cached",
                      let close = n.firstIndex(of: " ") else { return nil }
                return String(n[n.index(after: n.startIndex)..<close])
            })
        }
        let dev = try await s.slipway(["build", "--progress", "json", "--target", "development", "-t", "t:dev", s.context])
        #expect(dev.status == 0, "\(dev.combined)")
        #expect(stagesRun(dev) == ["base", "development"], "\(stagesRun(dev))")
        let inspect = try await s.slipway(["inspect", "t:dev"])
        #expect(inspect.stdout.contains("\"dev\""), "\(inspect.stdout)")

        let prod = try await s.slipway(["build", "--progress", "json", "--target", "production", "-t", "t:prod", s.context])
        #expect(prod.status == 0, "\(prod.combined)")
        #expect(stagesRun(prod) == ["base", "build", "production"], "\(stagesRun(prod))")

        // --no-cache: the shared store may hold this step from an earlier run; its output is asserted.
        let test = try await s.slipway(["build", "--progress", "json", "--no-cache", "--target", "test", s.context])
        #expect(test.status == 0, "\(test.combined)")
        #expect(test.stderr.contains("tests pass"), "\(test.stderr)")

        try s.write("test.js", "console.log('1 test failed'); process.exit(1)\n")
        let failing = try await s.build(["--target", "test"])
        #expect(failing.status != 0)
        #expect(failing.stderr.contains("RUN npm test"), "\(failing.stderr)")
        #expect(failing.stderr.contains("1 test failed"), "\(failing.stderr)")
        #expect(s.leftovers().isEmpty, "\(s.leftovers())")
    }
}
