import ArgumentParser
import Build
import Foundation
import OCI

/// `slipway run`: runs an image's entrypoint/cmd (or the given command) in the OCI runtime, over
/// an overlay snapshot of its layers, with host networking and this terminal's stdio — to check
/// what was built. The snapshot is always discarded afterwards (`--rm` is accepted for Docker
/// compatibility; there is no container to keep).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in a new container from an image.")

    @OptionGroup var store: StoreOptions

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

    @Option(name: .long, help: ArgumentHelp("The image must be of this platform, os/arch[/variant]; another CPU's runs through QEMU (binfmt_misc).", valueName: "platform"))
    var platform: String?

    @Option(name: .long, help: ArgumentHelp("Run over this root filesystem directory instead of an image (repeat for layers, topmost first).", visibility: .hidden))
    var rootfs: [String] = []

    @Argument(help: "The image to run (name, ID or digest).")
    var image: String?

    /// Everything after IMAGE belongs to the container's command, options included (Docker's rule).
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (default: the image's entrypoint and cmd).")
    var command: [String] = []

    func run() async throws {
        guard let mode = NetworkMode(rawValue: network) else {
            throw Self.failure("--network must be host or none, not '\(network)'")
        }
        let containerRuntime: ContainerRuntime
        do { containerRuntime = try ContainerRuntime.named(runtime) } catch { throw Self.failure("\(error)") }

        var args = command
        var lowers = rootfs
        var image = ImageRunDefaults()
        let executor = RunExecutor(runtime: containerRuntime, scratchDirectory: StoreOptions.scratchDirectory(ofStore: store.rootPath))
        executor.removeStale()   // what a killed earlier run left
        // Held open until the container exits: the leases `unpackedLayerPath` takes on the
        // image's layers last as long as the store value (its deinit drops this process's
        // leases), and they keep `rmi` + GC from removing the snapshots the container runs on.
        var openStore: ImageStore?
        defer { withExtendedLifetime(openStore) {} }
        if lowers.isEmpty {
            guard let reference = self.image else { throw Self.failure("missing IMAGE (usage: slipway run [OPTIONS] IMAGE [ARG...])") }
            do {
                let s = try store.open()
                openStore = s
                let stored = try s.resolve(reference)
                let config = try s.config(of: stored)
                // The store holds one platform per name: --platform checks it, never picks.
                if let platform {
                    let wanted = try Platform(parsing: platform)
                    guard config.platform.matches(wanted) else {
                        throw Self.failure("\(reference) is \(config.platform), not \(wanted): import or pull the \(wanted) image "
                                           + "(slipway pull --platform \(wanted)) under a name of its own and run that")
                    }
                }
                if !Emulation.isNative(config.platform) {
                    do { _ = try Emulation.interpreter(for: config.platform, subject: "\(reference)'s platform") } catch let e as EmulationError {
                        throw Self.failure("\(e)")
                    }
                }
                let c = config.config ?? ContainerConfig()
                image = ImageRunDefaults(entrypoint: c.entrypoint, cmd: c.cmd, env: c.env ?? [],
                                         workingDir: c.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/", user: c.user ?? "")
                // The store's unpacked snapshots (overlay-lower form, extracted once), topmost
                // first; each unpacked over the ones below it (implicit parent directories).
                lowers = []
                for diffID in config.rootfs.diffIDs {
                    lowers.insert(try s.unpackedLayerPath(diffID: diffID, below: lowers), at: 0)
                }
            } catch let e as ExitCode {
                throw e
            } catch let e as ValidationError {
                throw Self.failure(e.message)
            } catch {
                throw Self.failure("\(error)")
            }
        } else if let first = self.image {
            args.insert(first, at: 0)   // with --rootfs there is no IMAGE: all words are the command
        }
        lowers = lowers.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
        if let entrypoint {
            // Docker: --entrypoint replaces the entrypoint and drops the image's cmd.
            image.entrypoint = entrypoint.isEmpty ? [] : [entrypoint]
            image.cmd = []
        }
        let argv = (image.entrypoint ?? []) + (args.isEmpty ? (image.cmd ?? []) : args)
        guard !argv.isEmpty else { throw Self.failure("no command specified: the image has no entrypoint or cmd; give one after IMAGE") }

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
        let result: RunExecutor.ProcessResult
        do {
            result = try await executor.runEphemeral(spec, lowerDirs: lowers)
        } catch let error as RuntimeError {
            if case let .cannotExecute(_, _, code) = error {
                printError("\(error)")
                throw ExitCode(code)
            }
            throw Self.failure("\(error)")
        }
        if result.exitCode != 0 { throw ExitCode(result.exitCode) }
    }
}

extension RunCommand {
    /// Prints `error: message` and returns Docker's status for "the container could not be run
    /// at all" (125), which a command's own exit codes cannot be confused with.
    static func failure(_ message: String) -> ExitCode {
        printError(message)
        return ExitCode(125)
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
