/// Stages and stage references read straight from the syntax tree, with no validation or
/// expansion (what `slipway debug parse --json` reports; also handy for linters, which must
/// work on files that do not fully validate).
public struct SyntaxStage: Sendable, Equatable {
    public var index: Int
    /// The word after `AS`, as written.
    public var name: String?
    /// The first FROM word, verbatim.
    public var base: String
    /// The `--platform` flag value, verbatim.
    public var platform: String?
    /// Instructions after FROM up to the next FROM.
    public var instructionCount: Int
    public var line: Int
}

public struct SyntaxReference: Sendable, Equatable {
    public enum Kind: String, Sendable { case from, copyFrom = "copy_from", runMountFrom = "run_mount_from" }
    public enum TargetKind: String, Sendable { case stage, index, variable, image }

    public var kind: Kind
    /// Index of the stage containing the reference.
    public var stage: Int
    public var line: Int
    public var ref: String
    public var targetKind: TargetKind
    /// The referenced stage index, when it is one.
    public var target: Int?
}

extension ParsedDockerfile {
    public var syntaxStages: [SyntaxStage] {
        var out: [SyntaxStage] = []
        for node in nodes {
            if node.command == "from" {
                let v = node.values
                let name = v.count >= 3 && v[1].lowercased() == "as" ? v[2] : nil
                let platform = node.flags.last { $0.hasPrefix("--platform=") }.map { String($0.dropFirst("--platform=".count)) }
                out.append(SyntaxStage(index: out.count, name: name, base: v.first ?? "", platform: platform,
                                       instructionCount: 0, line: node.startLine))
            } else if !out.isEmpty {
                out[out.count - 1].instructionCount += 1
            }
        }
        return out
    }

    public var syntaxReferences: [SyntaxReference] {
        let stages = syntaxStages
        var out: [SyntaxReference] = []
        func classify(_ x: String) -> (SyntaxReference.TargetKind, Int?) {
            if !x.isEmpty, x.allSatisfy({ $0.isASCII && $0.isNumber }) {
                let i = Int(x)
                return (.index, i.flatMap { $0 < stages.count ? $0 : nil })
            }
            if let s = stages.last(where: { $0.name?.lowercased() == x.lowercased() }) { return (.stage, s.index) }
            if x.hasByte("$") { return (.variable, nil) }
            return (.image, nil)
        }
        var current = -1
        for node in nodes {
            switch node.command {
            case "from":
                current += 1
                let base = node.values.first ?? ""
                if let s = stages[..<current].last(where: { $0.name?.lowercased() == base.lowercased() }) {
                    out.append(SyntaxReference(kind: .from, stage: current, line: node.startLine, ref: base,
                                               targetKind: .stage, target: s.index))
                }
            case "copy" where current >= 0:
                for f in node.flags where f.hasPrefix("--from=") {
                    let x = String(f.dropFirst("--from=".count))
                    let (k, t) = classify(x)
                    out.append(SyntaxReference(kind: .copyFrom, stage: current, line: node.startLine, ref: x, targetKind: k, target: t))
                }
            case "run" where current >= 0:
                for f in node.flags where f.hasPrefix("--mount=") {
                    guard let x = Mount.fromField(of: String(f.dropFirst("--mount=".count))) else { continue }
                    let (k, t) = classify(x)
                    out.append(SyntaxReference(kind: .runMountFrom, stage: current, line: node.startLine, ref: x, targetKind: k, target: t))
                }
            default:
                continue
            }
        }
        return out
    }
}
