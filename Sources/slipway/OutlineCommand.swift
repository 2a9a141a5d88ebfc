import ArgumentParser
import Dockerfile
import Foundation

/// `slipway outline`: the stages, ARGs and build order of a Dockerfile for a target.
struct Outline: AsyncParsableCommand {
    // Every command names itself: without it ArgumentParser derives the name with
    // String(describing:) on the type, a runtime conformance scan at every start.
    static let configuration = CommandConfiguration(
        commandName: "outline",
        abstract: "Show a Dockerfile's stages, ARGs and parallel build order for a target."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(name: .shortAndLong, help: "The Dockerfile ('-' reads standard input).")
    var file: String = "Dockerfile"

    @Option(help: "The stage to build (default: the last stage).")
    var target: String?

    @Option(name: .customLong("build-arg"), help: "A build argument KEY=VALUE (KEY alone takes it from the environment).")
    var buildArgs: [String] = []

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    func run() async throws {
        let bytes: [UInt8]
        do {
            bytes = try DockerfileCLI.readInput(file)
        } catch {
            DockerfileCLI.fail("cannot read \(file): \(error.localizedDescription)")
        }
        var args: [String: String] = [:]
        for a in buildArgs {
            if let eq = a.firstIndex(of: "=") {
                args[String(a[..<eq])] = String(a[a.index(after: eq)...])
            } else if let v = ProcessInfo.processInfo.environment[a] {
                args[a] = v
            }
        }
        let graph: StageGraph
        do {
            let parsed = try Dockerfile.parse(bytes: bytes, fileName: file == "-" ? "Dockerfile" : file)
            graph = try StageGraph(model: DockerfileModel(parsed), options: BuildOptions(target: target, buildArgs: args))
        } catch {
            DockerfileCLI.fail(error.description)
        }
        switch format {
        case .text: print(Outline.text(graph), terminator: "")
        case .json: print(Outline.json(graph).rendered())
        }
    }

    static func baseDescription(_ n: StageNode, _ g: StageGraph) -> String {
        switch n.base {
        case .scratch: "scratch"
        case .image(let ref): ref
        case .stage(let i): "\(g.stages[i].stage.displayName) (stage \(i))"
        }
    }

    static func depDescription(_ d: StageDependency, _ g: StageGraph) -> String {
        let what: String
        switch d.kind {
        case .base: what = "FROM"
        case .copyFrom: what = "COPY --from"
        case .mountFrom: what = "RUN --mount from"
        }
        switch d.target {
        case .stage(let i): return "\(g.stages[i].stage.displayName) (\(what), line \(d.line))"
        case .image(let ref): return "image \(ref) (\(what), line \(d.line))"
        }
    }

    static func argDescription(_ a: ResolvedArg) -> String {
        var s = a.name
        s += a.defaultValue.map { " default=\($0)" } ?? " (no default)"
        s += a.value.map { " value=\($0)" } ?? " value=<unset>"
        if a.overridden { s += " (build-arg)" }
        return s
    }

    static func text(_ g: StageGraph) -> String {
        var out = ""
        let target = g.targetStage
        out += "\(g.model.fileName): \(g.stages.count) stage\(g.stages.count == 1 ? "" : "s"), target \(target.stage.displayName) (stage \(target.index))\n"
        if !g.globalArgInfo.isEmpty {
            out += "\nGlobal ARGs:\n"
            for a in g.globalArgInfo { out += "  \(argDescription(a))\n" }
        }
        out += "\nStages:\n"
        for n in g.stages {
            let platform = n.platform.map { " --platform=\($0)" } ?? ""
            out += "  [\(n.index)] \(n.stage.displayName)\(n.isUsed ? "" : " (unused)")  FROM\(platform) \(baseDescription(n, g))  line \(n.stage.fromNode.startLine)\n"
            for d in n.dependencies { out += "      needs \(depDescription(d, g))\n" }
            for a in n.args { out += "      ARG \(argDescription(a))\n" }
        }
        if !g.unusedBuildArgs.isEmpty {
            out += "\nwarning: build-arg\(g.unusedBuildArgs.count == 1 ? "" : "s") not consumed by any ARG: \(g.unusedBuildArgs.joined(separator: ", "))\n"
        }
        out += "\nBuild order (stages in one group can build in parallel):\n"
        for (i, group) in g.buildOrder.enumerated() {
            out += "  \(i + 1). " + group.map { g.stages[$0].stage.displayName }.joined(separator: ", ") + "\n"
        }
        return out
    }

    static func json(_ g: StageGraph) -> ParserJSON {
        func arg(_ a: ResolvedArg) -> ParserJSON {
            .object([
                ("name", .string(a.name)),
                ("default", a.defaultValue.map(ParserJSON.string) ?? .null),
                ("value", a.value.map(ParserJSON.string) ?? .null),
                ("overridden", .bool(a.overridden)),
                ("line", .int(a.line)),
            ])
        }
        let stages = g.stages.map { n -> ParserJSON in
            let base: ParserJSON
            switch n.base {
            case .scratch: base = .object([("kind", .string("scratch"))])
            case .image(let r): base = .object([("kind", .string("image")), ("ref", .string(r))])
            case .stage(let i): base = .object([("kind", .string("stage")), ("index", .int(i))])
            }
            let deps = n.dependencies.map { d -> ParserJSON in
                var fields: [(String, ParserJSON)] = [("kind", .string(d.kind.rawValue)), ("ref", .string(d.reference)), ("line", .int(d.line))]
                switch d.target {
                case .stage(let i): fields.append(("stage", .int(i)))
                case .image(let r): fields.append(("image", .string(r)))
                }
                return .object(fields)
            }
            return .object([
                ("index", .int(n.index)),
                ("name", n.name.map(ParserJSON.string) ?? .null),
                ("base", base),
                ("platform", n.platform.map(ParserJSON.string) ?? .null),
                ("line", .int(n.stage.fromNode.startLine)),
                ("used", .bool(n.isUsed)),
                ("dependencies", .array(deps)),
                ("args", .array(n.args.map(arg))),
            ])
        }
        return .object([
            ("file", .string(g.model.fileName)),
            ("target", .int(g.target)),
            ("global_args", .array(g.globalArgInfo.map(arg))),
            ("stages", .array(stages)),
            ("build_order", .array(g.buildOrder.map { .array($0.map(ParserJSON.int)) })),
            ("unused_build_args", .array(g.unusedBuildArgs.map(ParserJSON.string))),
        ])
    }
}
