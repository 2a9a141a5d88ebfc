import ArgumentParser
import Build

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
        let arguments = Array(CommandLine.arguments.dropFirst())
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
        await Slipway.main()
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
