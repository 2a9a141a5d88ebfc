import ArgumentParser
import OCI

/// `slipway fsck [--repair]`: re-verifies every blob and the index.
struct FsckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsck",
        abstract: "Verify the local store: every blob against its digest, every image against its blobs.",
        discussion: "Exits 1 when the store has problems (missing or corrupt content). Unreferenced blobs and leftovers of interrupted writes are reported as garbage and do not make the store invalid.")

    @OptionGroup var store: StoreOptions

    @Flag(help: "Remove corrupt blobs, images whose content is missing or corrupt, and all garbage.")
    var repair = false

    func run() throws {
        try reportingErrors {
            let s = try store.open(cleaningStaleWork: false)
            // Leftovers of killed slipway processes (mounts, containers, scratch, step secrets)
            // are removed by every command that opens the store; fsck says what it removed.
            for line in store.cleanStaleWork(s).lines { print("cleaned: \(line)") }
            let report = try s.fsck(repair: repair)
            for p in report.problems { print("problem: \(p)") }
            for g in report.garbage { print("garbage: \(g)") }
            for r in report.repairs { print("repaired: \(r)") }
            let state = report.isValid ? "store is valid" : "store has \(report.problems.count) problem(s)"
            print("\(state): \(report.checkedBlobs) blobs and \(report.checkedImages) images checked, \(report.garbage.count) garbage item(s)"
                  + (report.garbage.isEmpty || repair ? "" : " (remove with `slipway prune` or `slipway fsck --repair`)"))
            if !report.isValid { throw ExitCode.failure }
        }
    }
}
