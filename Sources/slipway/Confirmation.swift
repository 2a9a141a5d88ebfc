import Foundation

/// Docker's prune confirmation: `WARNING! … Are you sure you want to continue? [y/N]` on
/// stdout and one line read from stdin; `y` or `yes` goes on, anything else (or end of input)
/// cancels with an error. `-f/--force` skips the question. It is asked only when stdin is a
/// terminal: a script or CI job (stdin a pipe, a file or /dev/null) is never stopped by a
/// question nobody can answer — docker would read its answer from that input and cancel.
enum Confirmation {
    struct Cancelled: Error, CustomStringConvertible {
        var description: String { "cancelled: nothing was removed (answer y to the question, or pass -f/--force to skip it)" }
    }

    static func ask(_ warning: String, force: Bool) throws {
        if force || isatty(STDIN_FILENO) != 1 { return }
        writeStandardOutput("WARNING! \(warning)\nAre you sure you want to continue? [y/N] ")
        let answer = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        guard answer == "y" || answer == "yes" else { throw Cancelled() }
    }
}
