import ArgumentParser
import Foundation
import OCI

/// `slipway builder prune`: docker's `builder prune` — removes the build cache (every build-cache
/// record, the layers only they kept, and the RUN cache mounts not in use). Images stay.
struct BuilderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "builder",
        abstract: "Manage the build cache (docker's builder commands).",
        subcommands: [BuilderPrune.self])
}

struct BuilderPrune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove the build cache: build-cache records, the layers only they kept, unused cache mounts.")

    @OptionGroup var store: StoreOptions

    @Flag(name: .shortAndLong, help: "Do not ask for confirmation.")
    var force = false

    @Flag(name: .shortAndLong, help: "Accepted for docker compatibility: all build cache is removed either way.")
    var all = false

    func run() throws {
        try reportingErrors {
            let s = try store.open()
            try Confirmation.ask("This will remove all build cache.", force: force)
            let report = try s.collectGarbage(danglingImages: false, cache: true)
            print("Deleted build-cache records: \(report.removedCacheRecords)")
            print("Deleted blobs: \(report.removedBlobs.count), snapshots: \(report.removedSnapshots)")
            print("Deleted cache mounts: \(store.cacheMounts.prune().count)")
            print("Total reclaimed space: \(StoreFormatting.humanSize(report.freedBytes))")
        }
    }
}

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
