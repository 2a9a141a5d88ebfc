import Build
import Foundation
import OCI
import System

/// `build --load`: the built image goes to a Docker daemon as `docker load` reads it — the
/// docker-archive `slipway save` writes (`BuildExporter.exportArchive` → `ImageArchive.save`,
/// the one archive writer), piped into the `docker` CLI on PATH (which talks to whatever
/// daemon `DOCKER_HOST`/its context names).
enum DockerLoad {
    /// What to say when no `docker` is on PATH.
    static let noDockerMessage = """
        --load needs the docker CLI, and there is no `docker` on PATH (nothing was built). Without \
        --load the image is built into Slipway's store (slipway images); from there run \
        `slipway save --format docker IMAGE | docker load` where docker is installed, or build with \
        `-o type=docker,dest=FILE` and run `docker load -i FILE`.
        """

    /// The `docker` CLI on PATH (only PATH: it is the user's tool), or a clear error.
    static func locate() throws -> String {
        guard let docker = ChildProcess.which("docker", pathOnly: true) else { throw DockerLoadError(description: noDockerMessage) }
        return docker
    }

    /// Streams the image's docker-archive into `docker load`; returns what docker printed
    /// (`Loaded image: app:1`). A failed `docker load` is an error naming its exit code and
    /// message; the image stays in the store.
    static func load(manifestDigest: Digest, tags: [String], exporter: BuildExporter, docker: String) async throws -> String {
        let child = try ChildProcess.spawn([docker, "load"], stdin: .pipe, output: .pipe)
        guard let input = child.stdinFD else { throw DockerLoadError(description: "docker load: no pipe to its standard input") }
        // docker's output is drained while the archive streams in, so neither side can block the other.
        async let finished = runOffPool { () -> (code: Int32, stdout: [UInt8], stderr: [UInt8]) in
            let (out, err) = child.collectOutput()
            return (child.wait(), out, err)
        }
        var writeError: Error?
        do {
            try await exporter.exportArchive(manifestDigest: manifestDigest, tags: tags, to: "/dev/fd/\(input)", docker: true)
        } catch {
            writeError = error
        }
        close(input)
        let result = try await finished
        let said = (String(decoding: result.stdout, as: UTF8.self) + String(decoding: result.stderr, as: UTF8.self))
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.code == 0 else {
            throw DockerLoadError(description: "docker load failed (exit code \(result.code)): \(said.isEmpty ? "no message" : said)"
                                  + "; the image is in Slipway's store: once docker works, run `slipway save --format docker IMAGE | docker load`")
        }
        if let writeError { throw writeError }
        return said
    }
}

struct DockerLoadError: Error, CustomStringConvertible {
    var description: String
}
