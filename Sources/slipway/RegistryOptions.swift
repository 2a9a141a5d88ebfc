import ArgumentParser
import Foundation
import Registry

/// Options every command that talks to a registry shares.
struct RegistryOptions: ParsableArguments {
    @Option(name: .customLong("insecure-registry"), help: ArgumentHelp(
        "Reach this registry (host or host:port) over plain HTTP. localhost and 127.0.0.1 always use HTTP.",
        valueName: "host"))
    var insecureRegistries: [String] = []

    var access: RegistryAccess {
        RegistryAccess(insecureRegistries: Set(insecureRegistries.map { $0.lowercased() }))
    }
}

/// Like `reportingErrors`, for async command bodies: errors become one `error: ...` line.
func reportingErrorsAsync(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let e as ExitCode {
        throw e
    } catch let e as ValidationError {
        printError(e.message)
        throw ExitCode.failure
    } catch {
        printError("\(error)")
        debugDetail(error)
        throw ExitCode.failure
    }
}

/// Writes one line to stdout right away (progress must not wait for a buffer to fill).
func printLine(_ line: String) {
    writeStandardOutput(line + "\n")
}
