import ArgumentParser
import Build
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

    @Flag(name: .shortAndLong, help: "Show all images (Slipway keeps no intermediate images: the same list).")
    var all = false

    @Option(name: .shortAndLong, help: ArgumentHelp("Filter: dangling=true|false, reference=PATTERN (glob over repo:tag or repo), before=IMAGE, since=IMAGE, label=KEY[=VALUE]. Repeatable: the same key ORs, different keys AND.", valueName: "filter"))
    var filter: [String] = []

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
            let filters = try ImageFilters(self.filter, store: s)
            var rows: [Row] = []
            for image in try s.images().sorted(by: { ($0.createdDate ?? $0.addedAt) > ($1.createdDate ?? $1.addedAt) }) {
                guard try filters.admits(image, store: s) else { continue }
                let id = noTrunc ? image.id.description : image.id.short
                let refs: [ImageReference?] = image.tags.isEmpty ? [nil] : image.tags.sorted { $0.familiar < $1.familiar }
                for ref in refs {
                    if let f = filter {
                        guard let r = ref, r.repository == f.repository, f.tag == nil || f.tag == r.tag else { continue }
                    }
                    guard filters.admits(ref) else { continue }
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

/// `images --filter`, as docker's: `dangling=true|false`, `reference=PATTERN` (Go's
/// `path.Match` over the familiar `repo:tag`, else the familiar repository — `GlobPattern`),
/// `before=IMAGE` / `since=IMAGE` (created before / after that image), `label=KEY[=VALUE]`. The
/// same key given twice matches either value; different keys must all match.
struct ImageFilters {
    var dangling: Bool?
    var references: [GlobPattern] = []
    var before: Date?
    var since: Date?
    var labels: [(key: String, value: String?)] = []

    init(_ specs: [String], store: ImageStore) throws {
        for spec in specs {
            guard let eq = spec.firstIndex(of: "=") else {
                throw ValidationError("bad filter '\(spec)': write KEY=VALUE (dangling, reference, before, since, label)")
            }
            let key = spec[..<eq].lowercased(), value = String(spec[spec.index(after: eq)...])
            switch key {
            case "dangling":
                guard let b = ["true": true, "1": true, "false": false, "0": false][value.lowercased()] else {
                    throw ValidationError("bad filter '\(spec)': dangling is true or false")
                }
                dangling = b
            case "reference":
                do { references.append(try GlobPattern(value)) } catch {
                    throw ValidationError("bad filter '\(spec)': \(error)")
                }
            case "before", "since":
                let image = try store.resolve(value)
                let date = image.createdDate ?? image.addedAt
                if key == "before" { before = date } else { since = date }
            case "label":
                if let e = value.firstIndex(of: "=") {
                    labels.append((String(value[..<e]), String(value[value.index(after: e)...])))
                } else {
                    labels.append((value, nil))
                }
            default:
                throw ValidationError("invalid filter '\(key)': images filters on dangling, reference, before, since and label")
            }
        }
    }

    /// The filters on the image as a whole.
    func admits(_ image: StoredImage, store: ImageStore) throws -> Bool {
        if let dangling, dangling != image.tags.isEmpty { return false }
        let created = image.createdDate ?? image.addedAt
        if let before, created >= before { return false }
        if let since, created <= since { return false }
        if !labels.isEmpty {
            let have = try store.config(of: image).config?.labels ?? [:]
            for (key, value) in labels {
                guard let v = have[key], value == nil || value == v else { return false }
            }
        }
        return true
    }

    /// `reference=`: one of the patterns matches this name (an untagged row never does).
    func admits(_ ref: ImageReference?) -> Bool {
        guard !references.isEmpty else { return true }
        guard let ref else { return false }
        return references.contains { $0.matches(ref.familiar) || $0.matches(ref.familiarRepository) }
    }
}
