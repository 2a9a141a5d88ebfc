import ArgumentParser
import Foundation
import OCI
import Template

/// `--format` of `images`, `history` and `inspect`, as docker reads it: `table` (the command's
/// own table), `json` (one object per line), `table TEMPLATE` (a header row, then one row per
/// item, columns split at tabs and aligned by `StoreFormatting.table`) or a Go `TEMPLATE` (one
/// line per item). Templates are `Template.GoTemplate`.
enum OutputFormat {
    case table
    case json
    case template(GoTemplate, table: Bool)

    /// Parses a `--format` value; a template that does not parse is an error naming its
    /// position (`template parsing error: template: :1:9: …`).
    init(_ text: String?) throws {
        guard let text, text != "table" else { self = .table; return }
        if text == "json" { self = .json; return }
        var source = text
        var table = false
        if text.hasPrefix("table"), let next = text.dropFirst(5).first, next.isWhitespace {
            source = String(text.dropFirst(5)).trimmingCharacters(in: .whitespaces)
            table = true
        }
        // Docker's formatter reads \t and \n as a tab and a newline (shells pass them literally).
        source = source.replacingOccurrences(of: "\\t", with: "\t").replacingOccurrences(of: "\\n", with: "\n")
        if table, source.trimmingCharacters(in: .whitespaces).isEmpty { self = .table; return }
        do {
            self = .template(try GoTemplate(source), table: table)
        } catch {
            throw ValidationError("template parsing error: \(error) (in --format \(DisplayText.escaped(text)))")
        }
    }

    /// The items through a template (nil for `.table` and `.json`, which the command renders),
    /// with `headers` naming the columns of a `table` template (field → header).
    func render<T: Encodable>(_ items: [T], headers: [String: String]) throws -> String? {
        guard case .template(let template, let table) = self else { return nil }
        var lines: [String] = []
        if table {
            let fields = items.first.map { Self.fields(of: $0) } ?? Set(headers.keys)
            lines += try template.render(.object([:]), headers: headers, fields: fields).components(separatedBy: "\n")
        }
        for item in items {
            let text = try Self.render(template, item)
            if table { lines += text.components(separatedBy: "\n") } else { lines.append(text) }
        }
        guard table else { return lines.map { $0 + "\n" }.joined() }
        let cells = lines.filter { !$0.isEmpty }.map { $0.components(separatedBy: "\t") }
        guard let header = cells.first else { return "" }
        return StoreFormatting.table(header, Array(cells.dropFirst())) + "\n"
    }

    /// One item through `template`, its fields checked as a Go struct's are.
    static func render<T: Encodable>(_ template: GoTemplate, _ item: T) throws -> String {
        try template.render(try TemplateValue.of(item), fields: fields(of: item))
    }

    /// The item's stored properties: its template fields (an optional that is nil included,
    /// though its JSON leaves it out).
    static func fields<T>(of item: T) -> Set<String> {
        Set(Mirror(reflecting: item).children.compactMap(\.label))
    }
}
