import Dockerfile

/// A COPY or ADD exactly as the frontend typed and expanded it (`Dockerfile.Copy` / `Add`
/// after `StageScope.expand`), in the shape the copier works with: the `CopySpec` (sources,
/// destination, flags), the heredoc files, and where `--from` points. Built only from the
/// frontend's instruction, so the engine has no model of its own for these instructions.
public struct CopyStep: Sendable {
    public var spec: CopySpec
    /// `COPY <<EOF` files: name and (already expanded) content.
    public var heredocs: [HeredocSource]
    public var from: CopyFrom?
    /// `--from` as written (for messages).
    public var fromText: String?

    public init(spec: CopySpec, heredocs: [HeredocSource] = [], from: CopyFrom? = nil, fromText: String? = nil) {
        self.spec = spec
        self.heredocs = heredocs
        self.from = from
        self.fromText = fromText
    }

    /// The step for an expanded `.copy` or `.add` instruction; nil for any other instruction.
    public init?(_ instruction: Instruction, line: Int, dockerfile: String, resolveFrom: (String) -> CopyFrom) {
        switch instruction {
        case .copy(let c):
            spec = CopySpec(sources: c.sources, destination: c.destination, chown: c.chown, chmod: c.chmod,
                            excludes: c.excludes, parents: c.parents, link: c.link, isAdd: false,
                            line: line, dockerfile: dockerfile)
            heredocs = c.heredocSources.map { HeredocSource(name: $0.path, content: $0.data) }
            from = c.from.map(resolveFrom)
            fromText = c.from
        case .add(let a):
            spec = CopySpec(sources: a.sources, destination: a.destination, chown: a.chown, chmod: a.chmod,
                            excludes: a.excludes, link: a.link, isAdd: true, unpack: a.unpack, checksum: a.checksum,
                            line: line, dockerfile: dockerfile, keepGitDir: a.keepGitDir)
            heredocs = a.heredocSources.map { HeredocSource(name: $0.path, content: $0.data) }
            from = nil
            fromText = nil
        default:
            return nil
        }
    }

    /// A selection of `sources` with no flags (bind-mount sources are hashed through this);
    /// `line` is the instruction's, for errors.
    public static func selection(_ sources: [String], line: Int = 0) -> CopyStep {
        CopyStep(spec: CopySpec(sources: sources, destination: "/", line: line))
    }

    /// What the step shows in progress: `COPY [--link] [--from=X] src... dest`.
    public var shown: String {
        let link = LinkedCopy.applies(to: self) ? "--link " : ""
        let from = fromText.map { "--from=\($0) " } ?? ""
        return "\(spec.instructionName) \(link)\(from)\((spec.sources + heredocs.map { "<<" + $0.name } + [spec.destination]).joined(separator: " "))"
    }
}
