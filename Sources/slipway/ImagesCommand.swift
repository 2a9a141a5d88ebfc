import ArgumentParser
import Foundation
import OCI

/// `slipway images`: one row per tag (untagged images as `<none>`), like `docker images`.
struct ImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "List images in the local store.")

    @OptionGroup var store: StoreOptions

    @Argument(help: "Only images of this repository (and tag), e.g. alpine or app:1.0.")
    var repository: String?

    @Flag(name: .shortAndLong, help: "Only print image IDs.")
    var quiet = false

    @Flag(help: "Show manifest digests.")
    var digests = false

    @Flag(name: .customLong("no-trunc"), help: "Show full image IDs.")
    var noTrunc = false

    @Option(help: ArgumentHelp("Output format: table, json (one object per line), a Go template ('{{.Repository}}:{{.Tag}}') or 'table TEMPLATE' (fields: ID, Repository, Tag, Digest, CreatedAt, CreatedSince, Size, SizeBytes).", valueName: "format"))
    var format: String?

    /// A `table` template's column headers, as docker names them.
    static let headers = ["ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
                          "CreatedAt": "CREATED AT", "CreatedSince": "CREATED", "Size": "SIZE", "SizeBytes": "SIZE"]

    struct Row: Encodable {
        var ID: String
        var Repository: String
        var Tag: String
        var Digest: String
        var CreatedAt: String
        var CreatedSince: String
        var Size: String
        var SizeBytes: Int64
    }

    func run() throws {
        try reportingErrors {
            let format = try OutputFormat(format)
            let s = try store.open()
            var filter: ImageReference?
            if let r = repository {
                filter = try ImageReference(parsing: r, defaultTag: false)
            }
            var rows: [Row] = []
            for image in try s.images().sorted(by: { ($0.createdDate ?? $0.addedAt) > ($1.createdDate ?? $1.addedAt) }) {
                let id = noTrunc ? image.id.description : image.id.short
                let refs: [ImageReference?] = image.tags.isEmpty ? [nil] : image.tags.sorted { $0.familiar < $1.familiar }
                for ref in refs {
                    if let f = filter {
                        guard let r = ref, r.repository == f.repository, f.tag == nil || f.tag == r.tag else { continue }
                    }
                    rows.append(Row(
                        ID: id, Repository: ref?.familiarRepository ?? "<none>", Tag: ref?.tag ?? "<none>",
                        Digest: image.manifestDigest.description,
                        CreatedAt: image.created ?? "", CreatedSince: StoreFormatting.since(image.createdDate),
                        Size: StoreFormatting.humanSize(image.size), SizeBytes: image.size))
                }
            }
            if quiet {
                var seen = Set<String>()
                for r in rows where seen.insert(r.ID).inserted { print(r.ID) }
                return
            }
            if let text = try format.render(rows, headers: Self.headers) {
                writeStandardOutput(text)
                return
            }
            switch format {
            case .json, .template:
                for r in rows { print(try StoreFormatting.jsonLine(r)) }
            case .table:
                var header = ["REPOSITORY", "TAG"]
                if digests { header.append("DIGEST") }
                header += ["IMAGE ID", "CREATED", "SIZE"]
                print(StoreFormatting.table(header, rows.map { r in
                    var cells = [r.Repository, r.Tag]
                    if digests { cells.append(r.Digest) }
                    return cells + [r.ID, r.CreatedSince, r.Size]
                }))
            }
        }
    }
}
