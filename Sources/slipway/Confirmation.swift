import Foundation

/// Docker's prune confirmation: `WARNING! … Are you sure you want to continue? [y/N]` on
/// stdout, one line read from stdin (a terminal or not, as docker does); `y` or `yes` goes on,
/// anything else (or end of input) cancels with an error. `-f/--force` skips the question.
enum Confirmation {
    struct Cancelled: Error, CustomStringConvertible {
        var description: String { "cancelled: nothing was removed (answer y to the question, or pass -f/--force to skip it)" }
    }

    static func ask(_ warning: String, force: Bool) throws {
        if force { return }
        writeStandardOutput("WARNING! \(warning)\nAre you sure you want to continue? [y/N] ")
        let answer = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        if isatty(STDIN_FILENO) != 1 { writeStandardOutput("\n") }
        guard answer == "y" || answer == "yes" else { throw Cancelled() }
    }
}
