/// Lists every way two snapshots differ, field by field, so a report names the path or config
/// field and both values.
enum SnapshotDiff {
    static func differences(reference: ImageSnapshot, slipway: ImageSnapshot) -> [Difference] {
        files(reference.files, slipway.files) + config(reference.config, slipway.config)
            + history(reference.history, slipway.history)
    }

    static func files(_ reference: [String: FileFacts], _ slipway: [String: FileFacts]) -> [Difference] {
        var result: [Difference] = []
        for path in Set(reference.keys).union(slipway.keys).sorted() {
            switch (reference[path], slipway[path]) {
            case let (r?, s?) where r != s:
                for ((name, rv), (_, sv)) in zip(r.attributes, s.attributes) where rv != sv {
                    result.append(Difference(field: "file \(path) \(name)", reference: rv, slipway: sv))
                }
            case let (r?, nil):
                result.append(Difference(field: "file \(path) presence", reference: summary(r), slipway: "absent"))
            case let (nil, s?):
                result.append(Difference(field: "file \(path) presence", reference: "absent", slipway: summary(s)))
            default:
                break
            }
        }
        return result
    }

    static func summary(_ facts: FileFacts) -> String {
        facts.attributes.filter { !$0.1.isEmpty && $0.1 != "0" || $0.0 == "uid" || $0.0 == "gid" }
            .map { "\($0.0)=\($0.1)" }.joined(separator: " ")
    }

    static func config(_ reference: [String: String], _ slipway: [String: String]) -> [Difference] {
        ConfigFields.names.compactMap { name in
            let r = reference[name] ?? "absent", s = slipway[name] ?? "absent"
            return r == s ? nil : Difference(field: "config.\(name)", reference: r, slipway: s)
        }
    }

    static func history(_ reference: [HistoryStep], _ slipway: [HistoryStep]) -> [Difference] {
        guard reference.count == slipway.count else {
            func list(_ steps: [HistoryStep]) -> String {
                steps.enumerated().map { "\n        [\($0.offset)] \($0.element.createdBy)\($0.element.emptyLayer ? " (empty layer)" : "")" }.joined()
            }
            return [Difference(field: "history.length", reference: "\(reference.count)\(list(reference))",
                               slipway: "\(slipway.count)\(list(slipway))")]
        }
        var result: [Difference] = []
        for (index, (r, s)) in zip(reference, slipway).enumerated() {
            if r.createdBy != s.createdBy {
                result.append(Difference(field: "history[\(index)].created_by", reference: r.createdBy, slipway: s.createdBy))
            }
            if r.emptyLayer != s.emptyLayer {
                result.append(Difference(field: "history[\(index)].empty_layer", reference: "\(r.emptyLayer)", slipway: "\(s.emptyLayer)"))
            }
        }
        return result
    }
}
