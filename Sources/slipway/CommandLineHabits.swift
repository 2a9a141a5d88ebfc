import Dockerfile
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Docker's command-line habits, applied to the arguments before ArgumentParser sees them
/// (`SlipwayMain`):
///
/// - global options before the command, as docker, podman and buildah take them:
///   `--root DIR` (sets `$SLIPWAY_ROOT`), `--config DIR` (docker's config directory for
///   registry credentials: sets `$DOCKER_CONFIG`), `-D/--debug` (sets `$SLIPWAY_DEBUG`: error
///   lines are followed by the error's full description, `debugDetail`). A command's own
///   `--root` still wins;
/// - management commands as aliases: `image ls|rm|inspect|…` → `images`, `rmi`, `inspect`, …;
///   `buildx build` → `build`; `container run` → `run` (`builder prune` is a real command,
///   `BuilderCommand`);
/// - an unknown command is answered with the nearest known one ("did you mean").
///
/// Problems here are usage errors: exit status 125, as docker's.
enum CommandLineHabits {
    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    /// Docker's exit status for a usage error (unknown command, bad flag).
    static let usageStatus: Int32 = 125

    /// `image <sub>` → the slipway command it names.
    static let imageCommands: [String: String] = [
        "ls": "images", "list": "images", "rm": "rmi", "remove": "rmi", "inspect": "inspect",
        "prune": "prune", "history": "history", "tag": "tag", "pull": "pull", "push": "push",
        "save": "save", "load": "load", "import": "import", "build": "build",
    ]

    /// The other management groups: group → (sub → command).
    static let groups: [String: [String: String]] = [
        "image": imageCommands,
        "buildx": ["build": "build", "b": "build"],
        "container": ["run": "run"],
    ]

    /// Applies the global options (to this process's environment) and the aliases, and checks
    /// the command name against `commands` (the root's subcommand names), which is not called
    /// for `fastCommand` (`build`: listing every command's configuration costs start-up time).
    static func rewrite(_ arguments: [String], fastCommand: String, commands: () -> [String]) throws -> [String] {
        var args = arguments[...]
        while let first = args.first, first.hasPrefix("-"), first != "-" {
            let (name, inline) = split(first)
            let variable: String
            switch name {
            case "--root": variable = "SLIPWAY_ROOT"
            case "--config": variable = "DOCKER_CONFIG"
            case "-D", "--debug":
                guard inline == nil else { throw UsageError(description: "\(name) takes no value") }
                setenv("SLIPWAY_DEBUG", "1", 1)
                args = args.dropFirst()
                continue
            case "-h", "--help", "--version", "--generate-completion-script", "--experimental-dump-help":
                return Array(args)
            default:
                throw UsageError(description: "unknown global option '\(name)': before the command slipway takes --root DIR, --config DIR and -D/--debug; a command's own options go after its name (slipway COMMAND --help lists them)")
            }
            args = args.dropFirst()
            let value: String
            if let inline {
                value = inline
            } else {
                guard let next = args.first else { throw UsageError(description: "\(name) needs a directory (slipway \(name) DIR COMMAND …)") }
                value = next
                args = args.dropFirst()
            }
            guard !value.isEmpty else { throw UsageError(description: "\(name) needs a directory, not an empty value") }
            setenv(variable, value, 1)
        }
        guard let command = args.first, command != fastCommand else { return Array(args) }
        if let group = groups[command] {
            let rest = args.dropFirst()
            guard let sub = rest.first, !sub.hasPrefix("-") else {
                if let sub = rest.first, sub == "-h" || sub == "--help" {
                    writeStandardOutput("Usage: slipway \(command) COMMAND\n\nDocker's '\(command)' commands, each another name of a slipway command:\n"
                        + group.keys.sorted().map { "  \(command) \($0)".padding(toLength: 22, withPad: " ", startingAt: 0) + "slipway \(group[$0]!)\n" }.joined())
                    exit(0)
                }
                throw UsageError(description: "'slipway \(command)' needs a command: \(group.keys.sorted().joined(separator: ", "))")
            }
            guard let target = group[sub] else {
                throw UsageError(description: "unknown command '\(command) \(sub)'\(suggestion(for: sub, among: Array(group.keys), prefix: command + " ")) ('\(command)' takes \(group.keys.sorted().joined(separator: ", ")))")
            }
            return [target] + rest.dropFirst()
        }
        if command.hasPrefix("-") || command == "help" { return Array(args) }
        let known = commands()
        if !known.contains(command) {
            throw UsageError(description: "unknown command '\(command)'\(suggestion(for: command, among: known + groups.keys)) (slipway --help lists the commands)")
        }
        return Array(args)
    }

    private static func split(_ option: String) -> (String, String?) {
        guard option.hasPrefix("--"), let eq = option.firstIndex(of: "=") else { return (option, nil) }
        return (String(option[..<eq]), String(option[option.index(after: eq)...]))
    }

    /// "; did you mean 'images'?" for the nearest candidates within a small edit distance.
    static func suggestion(for word: String, among candidates: [String], prefix: String = "") -> String {
        let limit = max(2, word.count / 3)
        let scored = candidates.map { ($0, Suggest.distance(word, $0)) }.filter { $0.1 <= limit }
        guard let best = scored.map(\.1).min() else { return "" }
        let names = scored.filter { $0.1 == best }.map(\.0).sorted()
        return "; did you mean " + names.map { "'\(prefix)\($0)'" }.joined(separator: " or ") + "?"
    }


    /// Whether `--debug` (or `$SLIPWAY_DEBUG`) asked for errors in full.
    static var debug: Bool {
        guard let v = ProcessInfo.processInfo.environment["SLIPWAY_DEBUG"] else { return false }
        return !v.isEmpty && v != "0"
    }
}

/// With `--debug`, the lines after an `error:` line: the error's type and structure.
func debugDetail(_ error: Error) {
    guard CommandLineHabits.debug else { return }
    var structure = ""
    dump(error, to: &structure)
    writeStandardError(structure.split(separator: "\n").map { "debug: " + $0 + "\n" }.joined())
}
