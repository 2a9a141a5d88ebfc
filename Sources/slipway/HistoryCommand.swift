import ArgumentParser
import Foundation
import OCI

/// `slipway history IMAGE`: one row per history entry, newest first, with the size that entry's
/// layer adds — like `docker history`. `--builds [TAG]`: the last builds (of that tag) with each
/// step's status, cache source, time, bytes and why it ran; `--compare A B`: two builds step by
/// step; `--unused-exports`: what `--cache-to` exported that no build of this store hit since.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show the history of an image.")

    @OptionGroup var store: StoreOptions

    @Argument(help: "An image name, ID or digest (with --builds: a tag, optional).")
    var image: String?

    @Flag(help: "List the last builds (of IMAGE's tag when given): per step, cached or ran, its time and why it ran.")
    var builds = false

    @Option(help: "With --builds: how many builds.")
    var last: Int = 5

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Compare two builds step by step (ids from --builds).", valueName: "build"))
    var compare: [String] = []

    @Flag(name: .customLong("unused-exports"), help: ArgumentHelp(
        "List the cache records --cache-to exported that no build of this store hit after their latest export there (per destination).",
        discussion: "A record counts as used when a later build in this store took a step (or a COPY --from selection) from it. Builds on other machines that import the cache are not seen."))
    var unusedExports = false

    @Flag(name: .customLong("no-trunc"), help: "Do not truncate CREATED BY and IDs.")
    var noTrunc = false

    @Flag(name: .shortAndLong, help: "Only print image IDs.")
    var quiet = false

    @Option(name: [.customShort("H"), .long], help: ArgumentHelp("Sizes and dates for people (--human=false: exact bytes and RFC 3339 times, as docker's).", valueName: "bool"))
    var human = true

    @Option(help: ArgumentHelp("Output format: table, json (one object per line), a Go template ('{{.ID}} {{.Size}}') or 'table TEMPLATE' (fields: ID, CreatedAt, CreatedSince, CreatedBy, Size, SizeBytes, Comment, EmptyLayer, LayerDigest).", valueName: "format"))
    var format: String?

    /// A `table` template's column headers, as docker names them.
    static let headers = ["ID": "IMAGE", "CreatedAt": "CREATED AT", "CreatedSince": "CREATED", "CreatedBy": "CREATED BY",
                          "Size": "SIZE", "SizeBytes": "SIZE", "Comment": "COMMENT"]

    /// A line of `--unused-exports --format json`.
    struct UnusedExport: Encodable {
        var key: String
        var destination: String
        var exportedAt: String
        var buildID: String?
        var layer: String?
        var lastHit: String?
    }

    struct Row: Encodable {
        var ID: String
        var CreatedAt: String
        var CreatedSince: String
        var CreatedBy: String
        var Size: String
        var SizeBytes: Int64
        var Comment: String
        var EmptyLayer: Bool
        var LayerDigest: String?
    }

    func run() throws {
        try reportingErrors {
            let format = try OutputFormat(format)
            let s = try store.open()
            if !compare.isEmpty {
                guard compare.count == 2 else { throw ValidationError("--compare takes two build ids (slipway history --builds lists them)") }
                print(HistoryBuilds.compare(try s.buildCache.buildRecord(id: compare[0]), try s.buildCache.buildRecord(id: compare[1])), terminator: "")
                return
            }
            if unusedExports {
                let entries = try s.buildCache.cacheExports(unusedOnly: true)
                // Times as RFC 3339 (UTC, whole seconds), as image configs write them.
                let lines = entries.map { e in
                    UnusedExport(key: e.key.description, destination: e.destination, exportedAt: Timestamp.format(e.exportedAt),
                                 buildID: e.buildID, layer: e.layer?.description, lastHit: e.lastHit.map(Timestamp.format))
                }
                switch format {
                case .template:
                    writeStandardOutput(try format.render(lines, headers: [:]) ?? "")
                case .json:
                    for line in lines { print(try StoreFormatting.jsonLine(line)) }
                case .table:
                    if entries.isEmpty { print("no unused exported cache records"); return }
                    print(StoreFormatting.table(["DESTINATION", "EXPORTED", "BUILD", "RECORD", "LAYER", "LAST HIT"], entries.map { e in
                        [DisplayText.escaped(e.destination), StoreFormatting.since(e.exportedAt), String((e.buildID ?? "-").prefix(12)),
                         noTrunc ? e.key.description : e.key.short, e.layer.map { noTrunc ? $0.description : $0.short } ?? "-",
                         e.lastHit.map { StoreFormatting.since($0) } ?? "never"]
                    }))
                }
                return
            }
            if builds {
                guard last >= 1 else { throw ValidationError("--last must be at least 1") }
                let records = try s.buildCache.buildRecords(tag: image, limit: last)
                if records.isEmpty {
                    print(image.map { "no builds of \($0) recorded" } ?? "no builds recorded")
                    return
                }
                switch format {
                case .json: for r in records { print(String(decoding: try CanonicalJSON.encode(r), as: UTF8.self)) }
                case .table: print(HistoryBuilds.render(records), terminator: "")
                case .template: throw ValidationError("--builds prints table or json, not a template")
                }
                return
            }
            guard let image else { throw ValidationError("history needs an image (or --builds)") }
            let img = try s.resolve(image)
            let config = try s.config(of: img)
            let layers = try s.layerRecords(of: img)
            var rows: [Row] = []
            for (h, index) in config.historyWithLayers() {
                let layer = index.flatMap { $0 < layers.count ? layers[$0] : nil }
                let size = layer.map { $0.uncompressedSize ?? $0.size } ?? 0
                let created = h.created.flatMap(Timestamp.parse)
                let createdAt = created.map(Timestamp.format) ?? ""
                rows.append(Row(
                    ID: "<missing>", CreatedAt: createdAt,
                    CreatedSince: human ? StoreFormatting.since(created) : (created == nil ? "N/A" : createdAt),
                    CreatedBy: h.createdBy ?? "", Size: human ? StoreFormatting.humanSize(size) : String(size), SizeBytes: size,
                    Comment: h.comment ?? "", EmptyLayer: index == nil, LayerDigest: layer?.digest.description))
            }
            rows.reverse()
            if !rows.isEmpty { rows[0].ID = noTrunc ? img.id.description : img.id.short }
            if quiet {
                for r in rows { print(r.ID) }
                return
            }
            if case .template = format {
                // Docker's template fields are what its table shows: CREATED BY cut unless --no-trunc.
                let shown = noTrunc ? rows : rows.map { r in var r = r; r.CreatedBy = Self.truncate(r.CreatedBy); return r }
                writeStandardOutput(try format.render(shown, headers: Self.headers) ?? "")
                return
            }
            switch format {
            case .json, .template:
                for r in rows { print(try StoreFormatting.jsonLine(r)) }
            case .table:
                print(StoreFormatting.table(["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"], rows.map { r in
                    [r.ID, r.CreatedSince, DisplayText.escaped(noTrunc ? r.CreatedBy : Self.truncate(r.CreatedBy)), r.Size,
                     DisplayText.escaped(r.Comment)]
                }))
            }
        }
    }

    /// Docker cuts CREATED BY at 45 characters, ending with "…"; newlines and tabs become spaces.
    static func truncate(_ s: String, to n: Int = 45) -> String {
        let flat = s.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\t", with: " ")
        return flat.count <= n ? flat : String(flat.prefix(n - 1)) + "…"
    }
}
