import ArgumentParser
import Dockerfile
import Foundation
import Inspect

/// `slipway lint`: BuildKit's build checks plus the multi-stage article's common mistakes.
struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check a Dockerfile: BuildKit's build checks and common multi-stage mistakes.",
        discussion: """
            Honours '# check=skip=Rule1,Rule2;error=true' at the top of the Dockerfile, and \
            '# check=skip=Rule' on the line above one instruction. Exits 1 when a finding is at \
            or above --fail-on (default: error).
            """)

    @Option(name: .shortAndLong, help: ArgumentHelp("The Dockerfile (default: CONTEXT/Dockerfile; - reads standard input).", valueName: "file"))
    var file: String?

    @Argument(help: "The build context, where .dockerignore is looked for (default: the Dockerfile's directory).")
    var context: String?

    @Option(help: "Output format: text, json or sarif.")
    var format: Format = .text

    @Option(help: "The stage that is built (the final stage for root-user checks).")
    var target: String?

    @Option(name: .customLong("fail-on"), help: "Lowest level that makes the exit code non-zero: error, warning, info or none.")
    var failOn: FailOn = .error

    @Flag(name: .customLong("no-shellcheck"), help: "Do not run ShellCheck on RUN scripts (it runs when the shellcheck binary is installed).")
    var noShellcheck = false

    enum Format: String, ExpressibleByArgument { case text, json, sarif }
    enum FailOn: String, ExpressibleByArgument { case error, warning, info, none }

    func run() throws {
        try reportingErrors {
            // `-f -` reads the Dockerfile from standard input (as build does).
            let dockerfile = file ?? ((context ?? ".") as NSString).appendingPathComponent("Dockerfile")
            let data: Data
            if dockerfile == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                guard let read = FileManager.default.contents(atPath: dockerfile) else {
                    throw ValidationError("cannot read \(dockerfile): no such file (use -f to name the Dockerfile, or -f - for stdin)")
                }
                data = read
            }
            let contextDir = context ?? (dockerfile == "-" ? "." : (dockerfile as NSString).deletingLastPathComponent)
            let result: LintResult
            do {
                let parsed = try Dockerfile.parse(bytes: [UInt8](data), fileName: dockerfile == "-" ? "Dockerfile" : dockerfile)
                result = DockerfileChecks.run(parsed, dockerfilePath: dockerfile == "-" ? nil : dockerfile,
                                              contextDirectory: contextDir, target: target, shellCheck: !noShellcheck)
            } catch {
                throw ValidationError("\(error)")
            }
            switch format {
            case .text: print(result.renderText(), terminator: "")
            case .json: print(try result.renderJSON(), terminator: "")
            case .sarif: print(try result.renderSARIF(), terminator: "")
            }
            let threshold: LintLevel? = switch failOn {
            case .error: .error
            case .warning: .warning
            case .info: .info
            case .none: nil
            }
            if let threshold, result.findings.contains(where: { $0.level >= threshold }) {
                throw ExitCode.failure
            }
        }
    }
}
