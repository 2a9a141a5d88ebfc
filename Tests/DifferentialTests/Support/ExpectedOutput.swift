import Foundation
import Inspect

/// A case's `expected.json`: what current BuildKit documents and produces for a Dockerfile
/// BuildKit 0.8 cannot build, written as changes over the final stage's base image:
///
///     {"base": "fixture/busybox:latest",
///      "files": {"/app/run.sh": {"type": "file", "mode": "755", "text": "echo hi\n"},
///                "/app": {"type": "directory"}, "/etc/motd": "absent"},
///      "config": {"Cmd": ["/bin/sh", "-c", "x"]},
///      "history": [{"createdBy": "RUN /bin/sh -c … # buildkit", "emptyLayer": false}]}
///
/// Every path the build adds, changes or removes must be listed (defaults: uid/gid 0, mode 644
/// for files, 755 for directories, 777 for symlinks); config fields not listed keep the base's
/// values; `history` lists the entries after the base's.
enum ExpectedOutput {
    /// `replacing`: placeholders in the file's text and what they stand for in this session.
    static func snapshot(_ path: String, bases: [String: ImageSnapshot], replacing: [String: String] = [:]) throws -> ImageSnapshot {
        guard var text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw DifferentialError("\(path): unreadable")
        }
        for (placeholder, value) in replacing { text = text.replacingOccurrences(of: placeholder, with: value) }
        guard let root = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw DifferentialError("\(path): not a JSON object")
        }
        guard let baseName = root["base"] as? String, var result = bases[baseName] else {
            throw DifferentialError("\(path): \"base\" must name one of \(bases.keys.sorted())")
        }
        for (file, value) in (root["files"] as? [String: Any]) ?? [:] {
            if value as? String == "absent" {
                result.files[file] = nil
            } else if let spec = value as? [String: Any] {
                result.files[file] = try facts(spec, path: "\(path): \(file)")
            } else {
                throw DifferentialError("\(path): \(file): an object or \"absent\"")
            }
        }
        for (field, value) in (root["config"] as? [String: Any]) ?? [:] {
            guard ConfigFields.names.contains(field) else { throw DifferentialError("\(path): unknown config field \(field)") }
            let json = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
            result.config[field] = String(decoding: json, as: UTF8.self)
        }
        let history = try JSONSerialization.data(withJSONObject: root["history"] ?? [])
        result.history += try JSONDecoder().decode([HistoryStep].self, from: history)
        return result
    }

    static func facts(_ spec: [String: Any], path: String) throws -> FileFacts {
        let kind = spec["type"] as? String ?? "file"
        let defaultMode = kind == "directory" ? "755" : kind == "symlink" ? "777" : "644"
        guard let mode = UInt32(spec["mode"] as? String ?? defaultMode, radix: 8) else {
            throw DifferentialError("\(path): mode is an octal string")
        }
        var facts = FileFacts(kind: kind, mode: mode, uid: spec["uid"] as? Int ?? 0, gid: spec["gid"] as? Int ?? 0,
                              linkTarget: spec["link"] as? String ?? "")
        if kind == "file" {
            let bytes = Array((spec["text"] as? String ?? "").utf8)
            facts.content = ImageLoader.contentHash(bytes)
            facts.size = Int64(bytes.count)
        }
        return facts
    }
}
