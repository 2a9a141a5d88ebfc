/// One build stage: its FROM and the instructions up to the next FROM.
public struct Stage: Sendable, Equatable {
    /// 0-based position in the file.
    public var index: Int
    /// Lower-cased `AS` name, or nil.
    public var name: String?
    public var from: From
    /// The FROM instruction's node (lines, original text).
    public var fromNode: Node
    public var steps: [Step]
    /// The `# name description` comment above FROM, if any.
    public var docComment: String?

    /// `name`, or `stage-N` as BuildKit calls unnamed stages.
    public var displayName: String { name ?? "stage-\(index)" }
}

/// A Dockerfile as typed instructions: global ARGs and stages. No variables are expanded yet.
public struct DockerfileModel: Sendable {
    public var parsed: ParsedDockerfile
    /// ARG instructions before the first FROM.
    public var globalArgs: [Step]
    public var stages: [Stage]

    public var fileName: String { parsed.fileName }

    /// Types and validates every instruction of a parsed file.
    public init(_ parsed: ParsedDockerfile) throws(DockerfileError) {
        self.parsed = parsed
        var globalArgs: [Step] = []
        var stages: [Stage] = []
        for node in parsed.nodes {
            let instruction = try InstructionParser.parse(node, file: parsed.fileName)
            if case .from(let from) = instruction {
                stages.append(Stage(index: stages.count, name: from.name, from: from, fromNode: node, steps: [],
                                    docComment: from.name.flatMap { InstructionParser.docComment(node.comments, $0) }))
                continue
            }
            if stages.isEmpty {
                guard case .arg = instruction else {
                    throw DockerfileError(.instruction, file: parsed.fileName, line: node.startLine, endLine: node.endLine,
                                          instruction: node.keyword,
                                          message: "no build stage in current context: only ARG may come before the first FROM")
                }
                globalArgs.append(Step(instruction: instruction, node: node))
                continue
            }
            stages[stages.count - 1].steps.append(Step(instruction: instruction, node: node))
        }
        guard !stages.isEmpty else {
            throw DockerfileError(.stage, file: parsed.fileName, message: "dockerfile contains no stages to build (add a FROM instruction)")
        }
        self.globalArgs = globalArgs
        self.stages = stages
    }

    /// Parses and types Dockerfile text in one go.
    public static func load(_ text: String, fileName: String = "Dockerfile") throws(DockerfileError) -> DockerfileModel {
        try DockerfileModel(Dockerfile.parse(text, fileName: fileName))
    }

    /// The stage with this name (case-insensitive); with duplicate names the last one wins,
    /// as in BuildKit.
    public func stage(named name: String) -> Stage? {
        let lower = name.lowercased()
        return stages.last { $0.name == lower }
    }
}
