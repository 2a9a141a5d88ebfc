import ArgumentParser
import Build
import Foundation

/// `slipway run`: runs an image's entrypoint/cmd (or the given command) in the OCI runtime, over
/// an overlay snapshot of its layers, with host networking and this terminal's stdio — to check
/// what was built. The snapshot is always discarded afterwards (`--rm` is accepted for Docker
/// compatibility; there is no container to keep).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in a new container from an image.")

    @Flag(name: .long, help: "Remove the container when it exits (always done).")
    var rm = false

    @Option(name: [.customShort("e"), .customLong("env")], help: "Set an environment variable (K=V, or K to copy it from here).")
    var env: [String] = []

    @Option(name: [.customShort("u"), .long], help: "User name or uid, optionally with :group or :gid.")
    var user: String?

    @Option(name: [.customShort("w"), .long], help: "Working directory inside the container.")
    var workdir: String?

    @Option(name: .long, help: "Override the image's entrypoint (a single executable).")
    var entrypoint: String?

    @Option(name: .long, help: "Network: host (default) or none.")
    var network: String = "host"

    @Option(name: .long, help: "OCI runtime: runc (default) or crun.")
    var runtime: String = "runc"

    @Option(name: .long, help: ArgumentHelp("Run over this root filesystem directory instead of an image (repeat for layers, topmost first).", visibility: .hidden))
    var rootfs: [String] = []

    @Argument(parsing: .captureForPassthrough, help: "IMAGE [ARG...]")
    var words: [String] = []

    func run() async throws {
        guard let mode = NetworkMode(rawValue: network) else {
            throw ValidationError("--network must be host or none, not '\(network)'")
        }
        let containerRuntime: ContainerRuntime
        do { containerRuntime = try ContainerRuntime.named(runtime) } catch { throw ValidationError("\(error)") }

        var args = words
        var lowers = rootfs
        var image = ImageRunDefaults()
        if lowers.isEmpty {
            guard !args.isEmpty else { throw ValidationError("missing IMAGE (usage: slipway run [OPTIONS] IMAGE [ARG...])") }
            let reference = args.removeFirst()
            throw ValidationError("image '\(reference)' not found: the local store is not available in this build yet (use --rootfs DIR)")
        }
        lowers = lowers.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
        if let entrypoint { image.entrypoint = entrypoint.isEmpty ? [] : [entrypoint] ; if args.isEmpty { image.cmd = [] } }
        let argv = (image.entrypoint ?? []) + (args.isEmpty ? (image.cmd ?? []) : args)
        guard !argv.isEmpty else { throw ValidationError("no command specified: the image has no entrypoint or cmd; give one after IMAGE") }

        var environment = image.env
        for entry in env {
            if entry.contains("=") {
                environment.removeAll { $0.hasPrefix(entry.prefix { $0 != "=" } + "=") }
                environment.append(entry)
            } else if let value = ProcessInfo.processInfo.environment[entry] {
                environment.removeAll { $0.hasPrefix(entry + "=") }
                environment.append(entry + "=" + value)
            }
        }
        let spec = RunSpec(args: argv, env: environment, workingDir: workdir ?? image.workingDir,
                           user: user ?? image.user, network: mode, interactive: true)
        let executor = RunExecutor(runtime: containerRuntime)
        let result: RunExecutor.ProcessResult
        do {
            result = try await executor.runEphemeral(spec, lowerDirs: lowers)
        } catch let error as RuntimeError {
            // Docker's convention: 125 when the container could not be run at all.
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(125)
        }
        if result.exitCode != 0 { throw ExitCode(result.exitCode) }
    }
}

/// The parts of an image config that `slipway run` uses.
struct ImageRunDefaults {
    var entrypoint: [String]?
    var cmd: [String]?
    var env: [String] = []
    var workingDir = "/"
    var user = ""
}
