import ArgumentParser
import Build
import Foundation

/// The entry point.
///
/// `slipway build` — the command whose start-up time users feel on every rebuild — is parsed by
/// a root command of its own: ArgumentParser then neither walks the definitions of every other
/// subcommand nor parses its shell-completion pseudo-commands (which it skips for a command that
/// names a `_superCommandName`), together about 1 ms of a ~12 ms no-change rebuild.
@main
enum SlipwayMain {
    static func main() async {
        // Ctrl-C, SIGTERM and SIGHUP clean up and exit 128+signal; SIGPIPE becomes EPIPE.
        CleanupRegistry.shared.installHandlers()
        let arguments: [String]
        do {
            arguments = try CommandLineHabits.rewrite(Array(CommandLine.arguments.dropFirst()),
                                                      fastCommand: BuildCommand.configuration.commandName ?? "build") {
                Slipway.configuration.subcommands.compactMap { $0.configuration.commandName }
            }
        } catch {
            writeStandardError("error: \(error)\n")
            exit(CommandLineHabits.usageStatus)
        }
        if arguments.first == BuildCommand.configuration.commandName,
           let entry = (try? BuildEntry.parseAsRoot(Array(arguments.dropFirst()))) as? BuildEntry {
            do {
                try await entry.run()
            } catch {
                Slipway.exit(withError: error)
            }
            return
        }
        // Everything else, and `build` arguments that do not parse (help, usage errors), goes
        // through the full command tree, so those messages are exactly the usual ones.
        await runFullTree(arguments)
    }

    /// `Slipway.main()`, except that a usage error (unknown option, bad value, missing
    /// argument) exits 125 as docker's do; errors of a running command keep their status.
    static func runFullTree(_ arguments: [String]) async {
        let command: ParsableCommand
        do {
            command = try Slipway.parseAsRoot(arguments)
        } catch {
            if Slipway.exitCode(for: error) == .success { Slipway.exit(withError: error) }
            writeStandardError(Slipway.fullMessage(for: error) + "\n")
            exit(CommandLineHabits.usageStatus)
        }
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var command = command
                try command.run()
            }
        } catch {
            Slipway.exit(withError: error)
        }
    }
}

/// `slipway build` as a root command (see `SlipwayMain`).
struct BuildEntry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: BuildCommand.configuration.commandName,
        _superCommandName: Slipway.configuration.commandName ?? "slipway",
        abstract: BuildCommand.configuration.abstract)

    @OptionGroup var command: BuildCommand

    func run() async throws {
        try await command.run()
    }
}
