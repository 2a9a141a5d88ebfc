import Foundation

/// The `# check=skip=A,B;error=true;experimental=C` directive (BuildKit's syntax), and the same
/// `check=skip=…` written in a comment right above one instruction (applies to it alone).
public struct CheckDirective: Sendable, Hashable {
    public var skip: Set<String> = []
    public var skipAll = false
    public var error = false
    public var experimental: Set<String> = []
    public var experimentalAll = false

    public init() {}

    /// Parses the directive's value (`skip=…;error=true`). Unknown keys are ignored, like BuildKit.
    public init(parsing value: String) {
        for part in value.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            let names = pair[1].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            switch pair[0].lowercased() {
            case "skip":
                if names.contains(where: { $0.lowercased() == "all" }) { skipAll = true }
                skip.formUnion(names)
            case "error":
                error = pair[1].lowercased() == "true"
            case "experimental":
                if names.contains(where: { $0.lowercased() == "all" }) { experimentalAll = true }
                experimental.formUnion(names)
            default:
                break
            }
        }
    }

    /// Rules skipped by comments directly above an instruction (`# check=skip=Rule`).
    static func inlineSkips(_ comments: [String]) -> Set<String> {
        var names: Set<String> = []
        for comment in comments {
            let text = comment.trimmingCharacters(in: .whitespaces)
            guard text.lowercased().hasPrefix("check=") else { continue }
            let directive = CheckDirective(parsing: String(text.dropFirst("check=".count)))
            names.formUnion(directive.skip)
            if directive.skipAll { names.insert("all") }
        }
        return names
    }
}
