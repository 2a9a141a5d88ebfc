import ArgumentParser
import Build
import Foundation
import OCI

/// `slipway cache`: the persistent RUN --mount=type=cache directories of a store, moved
/// between machines as a tar (`export` / `import`), listed, or removed.
struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "List, export, import or remove RUN --mount=type=cache directories.",
        subcommands: [CacheList.self, CacheExport.self, CacheImport.self, CachePrune.self])
}

extension StoreOptions {
    var cacheMounts: CacheMountStore { CacheMountStore(root: rootPath + "/cache-mounts") }
}

struct CacheList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List cache mounts (id and directory).")
    @OptionGroup var store: StoreOptions

    func run() throws {
        try reportingErrors {
            _ = try store.open()
            for e in store.cacheMounts.entries() { print("\(DisplayText.escaped(e.id))\t\(e.name)") }
        }
    }
}

struct CacheExport: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Write cache mounts to a tar file.")
    @OptionGroup var store: StoreOptions

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The tar file to write ('-': standard output). A device, FIFO or symlink is written through; a regular file is replaced atomically.", valueName: "file"))
    var output: String

    @Option(name: .customLong("id"), help: ArgumentHelp("Only the cache with this id (repeatable; default: all).", valueName: "id"))
    var ids: [String] = []

    func run() throws {
        try reportingErrors {
            _ = try store.open()
            let written = try store.cacheMounts.export(to: output, ids: ids)
            let line = "Exported \(written.count) cache mount(s) to \(output == "-" ? "standard output" : output)"
            // The tar owns standard output when it goes there.
            if output == "-" { _ = writeStandardError(line + "\n") } else { print(line) }
        }
    }
}

struct CacheImport: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Read cache mounts from a tar file made by export.")
    @OptionGroup var store: StoreOptions

    @Option(name: [.short, .customLong("input")], help: ArgumentHelp("The tar file to read.", valueName: "file"))
    var input: String

    func run() throws {
        try reportingErrors {
            let s = try store.open()
            guard FileManager.default.isReadableFile(atPath: input) else {
                throw ValidationError("cannot read \(input)")
            }
            let ids = try store.cacheMounts.importArchive(input, temporaryDirectory: s.tmpDirectory)
            print("Imported \(ids.count) cache mount(s): \(ids.map { DisplayText.escaped($0) }.joined(separator: ", "))")
        }
    }
}

struct CachePrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove every cache mount not in use.")
    @OptionGroup var store: StoreOptions

    func run() throws {
        try reportingErrors {
            _ = try store.open()
            let removed = store.cacheMounts.prune()
            print("Deleted cache mounts: \(removed.count)")
        }
    }
}
