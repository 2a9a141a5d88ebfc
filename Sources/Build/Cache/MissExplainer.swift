import Foundation

/// Says in plain words why a step missed the cache: the first input that differs from the
/// closest earlier record of the same step (`StepInputs`), most specific first — the instruction
/// text, a build arg or ENV, the selected files, a mount, the user... — and only then what it
/// is built on (the parent step, the base image). A pure function of the two records, so every
/// rule is tested without a build.
public enum MissExplainer {
    /// What the build knows besides the two records.
    public struct Context: Sendable {
        public var noCache = false
        /// The progress number of the stage's previous filesystem step when it ran in this build.
        public var parentRanAs: Int?
        public init(noCache: Bool = false, parentRanAs: Int? = nil) {
            self.noCache = noCache
            self.parentRanAs = parentRanAs
        }
    }

    public static func reason(_ current: StepInputs, previous: StepInputs?, _ context: Context) -> String {
        if context.noCache { return "--no-cache" }
        guard let previous else { return "no earlier record of this step" }
        if previous.kind != current.kind || previous.instruction != current.instruction {
            return "instruction changed at line \(current.line) (was: \(short(previous.instruction, 80)))"
        }
        for field in current.fields where field.tag != "parent" && field.tag != "layers" {
            let old = previous.values(field.tag) ?? []
            guard old != field.values else { continue }
            return describe(field.tag, old: old, new: field.values, current, previous)
        }
        if let removed = previous.fields.first(where: { current.values($0.tag) == nil && $0.tag != "parent" && $0.tag != "layers" }) {
            return "\(removed.tag) removed"
        }
        if previous.values("parent") != current.values("parent") || previous.values("layers") != current.values("layers") {
            if let n = context.parentRanAs { return "parent step #\(n) missed" }
            if previous.base != current.base { return baseChange(old: previous.base, new: current.base) }
            return "an earlier instruction of the stage changed"
        }
        return "no usable cache record (pruned, or its layer was removed)"
    }

    static func describe(_ tag: String, old: [String], new: [String], _ current: StepInputs, _ previous: StepInputs) -> String {
        switch tag {
        case "env":
            return envChange(old: old, new: new, args: Set(current.args + previous.args))
        case "source-digest":
            return filesChange(old: previous.files, new: current.files, oldIgnore: previous.ignoreFile, newIgnore: current.ignoreFile)
        case "argv":
            return "the command changed (SHELL or expansion): \(short(old.joined(separator: " "), 60)) → \(short(new.joined(separator: " "), 60))"
        case "mounts", "mount":
            return mountChange(previous, current)
        case "script", "heredocs":
            return "the heredoc changed"
        case "host-ca-bundle":
            return "--add-ca-bundle changed (\(old.first == "1" ? "on" : "off") → \(new.first == "1" ? "on" : "off"))"
        case "config":
            return baseChange(old: previous.base, new: current.base)
        default:
            return "\(tag) changed (\(shown(old)) → \(shown(new)))"
        }
    }

    /// `build arg NODE_ENV changed (dev → prod)`, `ENV PATH added`, ...
    static func envChange(old: [String], new: [String], args: Set<String>) -> String {
        func split(_ list: [String]) -> [(String, String)] {
            list.map { e in
                guard let eq = e.firstIndex(of: "=") else { return (e, "") }
                return (String(e[..<eq]), String(e[e.index(after: eq)...]))
            }
        }
        let a = split(old), b = split(new)
        let oldValues = Dictionary(a, uniquingKeysWith: { _, last in last })
        let newValues = Dictionary(b, uniquingKeysWith: { _, last in last })
        func what(_ name: String) -> String { args.contains(name) ? "build arg \(name)" : "ENV \(name)" }
        for (name, value) in b where oldValues[name] != value {
            guard let was = oldValues[name] else { return "\(what(name)) added (\(short(value, 40)))" }
            return "\(what(name)) changed (\(short(was, 40)) → \(short(value, 40)))"
        }
        if let (name, was) = a.first(where: { newValues[$0.0] == nil }) {
            return "\(what(name)) removed (was \(short(was, 40)))"
        }
        return "the environment's order changed"
    }

    /// `package-lock.json changed (2 files in the selection, 1 changed: 1,200 → 1,214 bytes)`.
    public static func filesChange(old: SelectionListing?, new: SelectionListing?, oldIgnore: String?, newIgnore: String?) -> String {
        guard let old, let new else { return "the selected files in the source changed" }
        let before = Dictionary(old.entries.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(new.entries.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        let changed = new.entries.filter { e in before[e.path].map { $0.identity != e.identity } ?? false }
        let added = new.entries.filter { before[$0.path] == nil }
        let removed = old.entries.filter { after[$0.path] == nil }
        var counts = ["\(new.total) \(new.total == 1 ? "file" : "files") in the selection"]
        if !changed.isEmpty { counts.append("\(changed.count) changed") }
        if !added.isEmpty { counts.append("\(added.count) added") }
        if !removed.isEmpty { counts.append("\(removed.count) removed") }
        let summary = counts.joined(separator: ", ")
        if changed.count == 1, added.isEmpty, removed.isEmpty, let c = changed.first, let b = before[c.path] {
            return "\(c.path) changed (\(summary): \(bytes(b.size)) → \(bytes(c.size)) bytes)"
        }
        let names = (changed + added).map(\.path) + removed.map(\.path)
        if !names.isEmpty {
            let listed = names.prefix(3).joined(separator: ", ") + (names.count > 3 ? " and \(names.count - 3) more" : "")
            let verb = changed.isEmpty ? (added.isEmpty ? "removed" : removed.isEmpty ? "added" : "added or removed")
                : (added.isEmpty && removed.isEmpty ? "changed" : "changed, added or removed")
            return "\(listed) \(verb) (\(summary))"
        }
        if oldIgnore != newIgnore { return ".dockerignore changed (the selection is the same files)" }
        if !new.isComplete || !old.isComplete {
            return "the selected files changed (\(summary); the change is beyond the first \(SelectionListing.limit) kept)"
        }
        return "the selected files changed (\(summary))"
    }

    /// A mount added, removed or changed; a secret shows only its id (the key holds no more).
    static func mountChange(_ previous: StepInputs, _ current: StepInputs) -> String {
        func mounts(_ s: StepInputs) -> [String] {
            s.fields.filter { $0.tag == "mount" }.map { $0.values.joined(separator: ",") }
        }
        let a = mounts(previous), b = mounts(current)
        let added = b.filter { !a.contains($0) }, removed = a.filter { !b.contains($0) }
        if let m = added.first, m.contains("type=secret"), removed.isEmpty { return "secret mount added (\(short(m, 80)))" }
        if let m = removed.first, m.contains("type=secret"), added.isEmpty { return "secret mount removed (\(short(m, 80)))" }
        if added.count == 1, removed.count == 1 {
            let kind = added[0].contains("type=cache") ? "cache mount options" : "mount options"
            return "\(kind) changed (\(short(removed[0], 60)) → \(short(added[0], 60)))"
        }
        if !added.isEmpty { return "mount added (\(short(added.joined(separator: "; "), 80)))" }
        if !removed.isEmpty { return "mount removed (\(short(removed.joined(separator: "; "), 80)))" }
        return "the mounts changed"
    }

    /// `base image busybox now sha256:ab12…, was sha256:cd34…`.
    static func baseChange(old: String, new: String) -> String {
        let a = old.split(separator: " ").map(String.init), b = new.split(separator: " ").map(String.init)
        if a.count == 3, b.count == 3, a[0] == "image", b[0] == "image", a[1] == b[1] {
            return "base image \(b[1]) now \(shortDigest(b[2])), was \(shortDigest(a[2]))"
        }
        if b.first == "stage", a == b { return "stage \(b.dropFirst().joined(separator: " ")) changed" }
        return "the base changed (\(describeBase(a)) → \(describeBase(b)))"
    }

    static func describeBase(_ parts: [String]) -> String {
        guard let kind = parts.first else { return "nothing" }
        switch kind {
        case "image" where parts.count == 3: return "\(parts[1]) \(shortDigest(parts[2]))"
        case "stage": return "stage " + parts.dropFirst().joined(separator: " ")
        default: return parts.joined(separator: " ")
        }
    }

    static func shortDigest(_ d: String) -> String {
        guard d.hasPrefix("sha256:"), d.count > 19 else { return d }
        return String(d.prefix(19)) + "…"
    }

    static func shown(_ values: [String]) -> String {
        let text = values.joined(separator: " ")
        return text.isEmpty ? "none" : short(text, 60)
    }

    static func short(_ s: String, _ n: Int) -> String {
        s.count > n ? String(s.prefix(n - 1)) + "…" : s
    }

    static func bytes(_ n: Int64) -> String {
        let digits = String(n)
        var out = ""
        for (i, c) in digits.reversed().enumerated() {
            if i > 0, i % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }
}
