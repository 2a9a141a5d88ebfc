import Foundation
import OCI

extension ImageAnalysis {
    /// The human report `slipway analyze` prints.
    public func renderText(wastedLimit: Int = 20) -> String {
        var out = "Image: \(image)"
        if !architecture.isEmpty { out += " (\(os)/\(architecture))" }
        out += "\n\nLayers (\(layers.count)):\n"
        out += "  #    size       added        modified     removed      command\n"
        for layer in layers {
            let c = layer.changes
            out += "  " + pad("\(layer.index)", 4) + " " + pad(ByteFormat.human(layer.size), 10) + " "
            out += pad("+\(c.added.files) \(ByteFormat.human(c.added.bytes))", 12) + " "
            out += pad("~\(c.modified.files) \(ByteFormat.human(c.modified.bytes))", 12) + " "
            out += pad("-\(c.removed.files) \(ByteFormat.human(c.removed.bytes))", 12) + " "
            out += DisplayText.escaped(Self.shortCommand(layer.command)) + "\n"
            // Where a big layer's bytes went.
            if layer.size >= 1_000_000 {
                for dir in c.topDirectories.prefix(3) where dir.bytes > 0 {
                    out += "         " + pad(ByteFormat.human(dir.bytes), 10) + " in " + DisplayText.escaped(dir.path) + "\n"
                }
            }
        }
        let e = efficiency
        out += "\nImage details (dive metrics):\n"
        out += "  Total image size:        \(ByteFormat.human(e.sizeBytes)) (\(e.sizeBytes) bytes)\n"
        out += "  User layers size:        \(ByteFormat.human(e.userSizeBytes)) (\(e.userSizeBytes) bytes)\n"
        out += "  Potential wasted space:  \(ByteFormat.human(e.wastedBytes)) (\(e.wastedBytes) bytes)\n"
        out += "  Image efficiency score:  \(String(format: "%.4f", e.efficiency * 100)) %\n"
        out += "  User wasted percent:     \(String(format: "%.4f", e.wastedUserPercent * 100)) %\n"
        if !e.inefficiencies.isEmpty {
            out += "\n  Wasted files (count, total space, path):\n"
            for item in e.inefficiencies.prefix(wastedLimit) {
                out += "    " + pad("\(item.count)", 5) + " " + pad(ByteFormat.human(item.cumulativeSize), 10)
                    + " " + DisplayText.escaped(item.path) + "\n"
            }
            if e.inefficiencies.count > wastedLimit {
                out += "    … and \(e.inefficiencies.count - wastedLimit) more\n"
            }
        }
        out += "\nBuild-only content (final filesystem: \(ByteFormat.human(finalSize)) in \(fileCount) objects):\n"
        let b = buildOnly
        if let program = b.staticProgram {
            out += "  The image runs \(program.program), a static binary (\(ByteFormat.human(program.programBytes))): a FROM scratch "
                + "final stage with it and the CA certificates would drop ≈ \(ByteFormat.megabytes(program.droppedBytes)).\n"
        }
        if b.hiddenBytes > 0 {
            out += "  Layers also carry \(ByteFormat.megabytes(b.hiddenBytes)) that later layers overwrote or deleted.\n"
        }
        if b.classes.isEmpty && b.staticProgram == nil {
            out += "  none found: the final image holds no compilers, headers, caches, docs or sources.\n"
        } else {
            out += "  A multi-stage build would drop ≈ \(ByteFormat.megabytes(b.predictedSaving)) "
                + "(\(String(format: "%.1f", b.predictedFraction * 100)) %) of this image"
                + (b.classes.isEmpty ? ".\n" : "; build-only files: \(ByteFormat.megabytes(b.bytes)) "
                    + "(\(String(format: "%.1f", b.fraction * 100)) % of the filesystem):\n")
            for cls in b.classes {
                out += "  " + pad(cls.title, 36) + " " + pad(ByteFormat.human(cls.bytes), 10) + " \(cls.files) files\n"
                for dir in cls.topDirectories {
                    out += "      " + pad(ByteFormat.human(dir.bytes), 10) + " " + DisplayText.escaped(dir.path) + "\n"
                }
            }
        }
        if user.isEmpty || user == "root" || user == "0" || user.hasPrefix("0:") {
            out += "\nNote: the image runs as root (no USER); add a non-root USER to the final stage.\n"
        }
        return out
    }

    static func shortCommand(_ command: String, limit: Int = 90) -> String {
        var text = command.replacingOccurrences(of: "\n", with: " ")
        for prefix in ["/bin/sh -c #(nop) ", "|"] where text.hasPrefix(prefix) {
            text = String(text.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
        }
        if text.isEmpty { return "(unknown)" }
        return text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
    }
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}
