import ArgumentParser
import OCI

/// `slipway fsck [--repair [--dry-run]]`: re-verifies every blob and the index.
struct FsckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsck",
        abstract: "Verify the local store: every blob against its digest, every image against its blobs.",
        discussion: "Exits 1 when the store has problems (missing or corrupt content). Unreferenced blobs and leftovers of interrupted writes are reported as garbage and do not make the store invalid.")

    @OptionGroup var store: StoreOptions

    @Flag(help: "Remove corrupt blobs, images whose content is missing or corrupt, and all garbage.")
    var repair = false

    @Flag(name: .customLong("dry-run"), help: "With --repair: list what it would remove (images with their tags, blobs, leftovers) and change nothing.")
    var dryRun = false

    func run() throws {
        try reportingErrors {
            if dryRun && !repair { throw ValidationError("--dry-run goes with --repair: slipway fsck --repair --dry-run") }
            let s = try store.open(cleaningStaleWork: false)
            // Leftovers of killed slipway processes (mounts, containers, scratch, step secrets)
            // are removed by every command that opens the store; fsck says what it removed.
            // A dry run changes nothing, so it leaves those too.
            if !dryRun { for line in store.cleanStaleWork(s).lines { print("cleaned: \(line)") } }
            let report = try s.fsck(repair: repair, dryRun: dryRun)
            for p in report.problems { print("problem: \(p)") }
            for g in report.garbage { print("garbage: \(g)") }
            for r in report.repairs { print(dryRun ? r : "repaired: \(r)") }
            if !report.removedTags.isEmpty {
                print((dryRun ? "tags that --repair would remove: " : "tags removed: ") + report.removedTags.joined(separator: ", "))
            }
            let state = report.isValid ? "store is valid" : "store has \(report.problems.count) problem(s)"
            print("\(state): \(report.checkedBlobs) blobs and \(report.checkedImages) images checked, \(report.garbage.count) garbage item(s)"
                  + (report.garbage.isEmpty || (repair && !dryRun) ? "" : " (remove with `slipway prune` or `slipway fsck --repair`)"))
            if !report.isValid { throw ExitCode.failure }
        }
    }
}
