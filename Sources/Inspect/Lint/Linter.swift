import Dockerfile
import OCI
import Foundation

/// What the linter knows besides the Dockerfile.
public struct LintOptions: Sendable {
    /// The content of the context's `.dockerignore`, or nil when there is none.
    public var dockerignore: String?
    /// The stage that is built (`--target`); the last stage when nil.
    public var target: String?
    /// Run ShellCheck on RUN scripts (when the `shellcheck` binary is installed): `lint` and
    /// `build --check` do; a plain build does not (a process per RUN on every build).
    public var shellCheck: Bool

    public init(dockerignore: String? = nil, target: String? = nil, shellCheck: Bool = false) {
        self.dockerignore = dockerignore
        self.target = target
        self.shellCheck = shellCheck
    }
}

/// The findings for one Dockerfile, in line order.
public struct LintResult: Sendable, Codable, Hashable {
    public var file: String
    public var findings: [LintFinding]
    public var hasErrors: Bool { findings.contains { $0.level == .error } }
}

/// BuildKit's build checks and the article's common mistakes, on the Dockerfile module's parse tree.
public enum Linter {
    /// A check only the build can make (BuildKit's InvalidBaseImagePlatform needs the base's
    /// config), under the same rules as `lint`'s: nil when the Dockerfile's `# check=` directive
    /// or a `# check=skip=` comment above the instruction skips it; an error with `error=true`.
    public static func buildFinding(_ rule: LintRule, in parsed: ParsedDockerfile, line: Int, message: String) -> LintFinding? {
        let check = parsed.check.map(CheckDirective.init(parsing:)) ?? CheckDirective()
        let node = parsed.nodes.first { $0.startLine == line }
        let inline = node.map { CheckDirective.inlineSkips($0.comments) } ?? []
        if check.skipAll || check.skip.contains(rule.name) || inline.contains(rule.name) || inline.contains("all") { return nil }
        let level: LintLevel = check.error && rule.isBuildKit ? .error : rule.level
        return LintFinding(rule: rule.name, level: level, message: message, file: parsed.fileName, line: line, endLine: line, url: rule.url)
    }

    public static func lint(text: String, fileName: String = "Dockerfile",
                            options: LintOptions = LintOptions()) throws(DockerfileError) -> LintResult {
        lint(try Dockerfile.parse(text, fileName: fileName), options: options)
    }

    public static func lint(_ parsed: ParsedDockerfile, options: LintOptions = LintOptions()) -> LintResult {
        var context = LintContext(parsed: parsed, options: options)
        context.run()
        let findings = context.findings.sorted { ($0.line, $0.rule) < ($1.line, $1.rule) }
        return LintResult(file: parsed.fileName, findings: findings)
    }
}

/// A stage as the linter sees it.
struct LintStage {
    var index: Int
    var from: Node
    var baseName: String
    var name: String?
    var nodes: [Node] = []
    /// Index of the stage this one is built `FROM`, if any.
    var parent: Int?
}

struct LintContext {
    let parsed: ParsedDockerfile
    let options: LintOptions
    let check: CheckDirective
    var findings: [LintFinding] = []
    var globalArgs: [(name: String, value: String?)] = []
    var stages: [LintStage] = []
    /// Lowercased stage name → index of the first stage with it.
    var firstStageNamed: [String: Int] = [:]
    /// Per stage, what it and the stages it is built FROM define (`computeInheritance`).
    var inherited: [InheritedFacts] = []

    struct InheritedFacts {
        var envNames: Set<String>
        var setsShell = false
        var setsAbsoluteWorkdir = false
    }

    init(parsed: ParsedDockerfile, options: LintOptions) {
        self.parsed = parsed
        self.options = options
        self.check = parsed.check.map(CheckDirective.init(parsing:)) ?? CheckDirective()
    }

    static let builtinArgs: Set<String> = [
        "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDPLATFORM", "BUILDOS", "BUILDARCH",
        "BUILDVARIANT", "TARGETSTAGE", "BUILDKIT_SYNTAX",
    ]
    /// Variables the usual base images set; the linter cannot read the base image's config, so
    /// it assumes these rather than report them.
    static let commonImageEnv: Set<String> = [
        "PATH", "HOME", "HOSTNAME", "TERM", "LANG", "LANGUAGE", "LC_ALL", "USER", "SHELL", "PWD", "NODE_VERSION",
        "YARN_VERSION", "NODE_ENV", "GOLANG_VERSION", "GOPATH", "GOTOOLCHAIN", "GOROOT", "PYTHON_VERSION",
        "PYTHON_SHA256", "PYTHON_PIP_VERSION", "GPG_KEY", "RUSTUP_HOME", "CARGO_HOME", "RUST_VERSION", "JAVA_HOME",
        "JAVA_VERSION", "MAVEN_HOME", "GRADLE_HOME", "DEBIAN_FRONTEND", "SSL_CERT_FILE",
    ]

    mutating func report(_ rule: LintRule, _ node: Node, _ message: String, line: Int? = nil) {
        report(rule, line: line ?? node.startLine, endLine: line ?? node.endLine, message,
               inlineSkips: CheckDirective.inlineSkips(node.comments))
    }

    mutating func report(_ rule: LintRule, line: Int, endLine: Int, _ message: String, inlineSkips: Set<String> = []) {
        if check.skipAll || check.skip.contains(rule.name) { return }
        if inlineSkips.contains(rule.name) || inlineSkips.contains("all") { return }
        if rule.isExperimental, !check.experimentalAll, !check.experimental.contains(rule.name) { return }
        var level = rule.level
        if check.error, rule.isBuildKit { level = .error }
        findings.append(LintFinding(rule: rule.name, level: level, message: message, file: parsed.fileName,
                                    line: line, endLine: max(line, endLine), url: rule.url))
    }

    mutating func run() {
        do {
            let model = try DockerfileModel(parsed)
            // Resolving the stages expands the ARGs as a build would: a value past the expansion
            // limits (issue 18 #7) is a finding here too. Other resolution errors are left to
            // the build, as before.
            do {
                _ = try StageGraph(model: model, options: BuildOptions(target: options.target))
            } catch where error.kind == .limit {
                let line = error.line ?? 1
                report(.invalidInstruction, line: line, endLine: error.endLine ?? line,
                       "\(error.instruction.map { $0.uppercased() + ": " } ?? "")\(error.message)")
            } catch {}
        } catch {
            let line = error.line ?? 1
            report(.invalidInstruction, line: line, endLine: error.endLine ?? line, error.message)
        }
        collectStages()
        computeInheritance()
        checkParserWarnings()
        checkCasing()
        checkStages()
        checkFromArgs()
        for index in stages.indices {
            checkInstructions(in: index)
        }
        checkArticleMistakes()
        checkHadolintRules()
        checkShellScripts()
    }

    // MARK: structure

    mutating func collectStages() {
        for node in parsed.nodes {
            if node.command == "from" {
                let values = node.values
                let base = values.first ?? ""
                var name: String?
                if values.count >= 3, values[1].lowercased() == "as" { name = values[2] }
                // The first earlier stage of that name (a map: a scan per stage was quadratic).
                let parent = firstStageNamed[base.lowercased()]
                if let name, firstStageNamed[name.lowercased()] == nil { firstStageNamed[name.lowercased()] = stages.count }
                stages.append(LintStage(index: stages.count, from: node, baseName: base, name: name, parent: parent))
            } else if stages.isEmpty {
                if node.command == "arg" {
                    for word in node.values { globalArgs.append(Self.splitArg(word)) }
                }
            } else {
                stages[stages.count - 1].nodes.append(node)
            }
        }
    }

    static func splitArg(_ word: String) -> (name: String, value: String?) {
        guard let eq = word.firstIndex(of: "=") else { return (word, nil) }
        var value = String(word[word.index(after: eq)...])
        if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
            value = String(value.dropFirst().dropLast())
        }
        return (String(word[..<eq]), value)
    }

    /// The stage that gets built.
    var finalStage: Int? {
        if let target = options.target {
            return stages.firstIndex { $0.name?.lowercased() == target.lowercased() }
        }
        return stages.indices.last
    }

    /// The final stage and the stages it is built FROM: what ends up in the image.
    var shippedStages: Set<Int> {
        var result: Set<Int> = []
        var current = finalStage
        while let index = current, !result.contains(index) {
            result.insert(index)
            current = stages[index].parent
        }
        return result
    }

    // MARK: BuildKit checks

    mutating func checkParserWarnings() {
        for warning in parsed.warnings where warning.message.lowercased().contains("empty continuation") {
            report(.noEmptyContinuation, line: warning.line, endLine: warning.line, "Empty continuation line")
        }
    }

    mutating func checkCasing() {
        var lower = 0
        var upper = 0
        for node in parsed.nodes where Self.selfConsistent(node.keyword) {
            if node.keyword == node.keyword.lowercased() { lower += 1 } else { upper += 1 }
        }
        let majorityLower = lower > upper
        for node in parsed.nodes {
            var casing = ""
            if majorityLower, node.keyword.lowercased() != node.keyword { casing = "lowercase" }
            if !majorityLower, node.keyword.uppercased() != node.keyword { casing = "uppercase" }
            if !casing.isEmpty {
                report(.consistentInstructionCasing, node,
                       "Command '\(node.keyword)' should match the case of the command majority (\(casing))")
            }
        }
    }

    static func selfConsistent(_ s: String) -> Bool { s == s.lowercased() || s == s.uppercased() }

    mutating func checkStages() {
        var seen: Set<String> = []
        for stage in stages {
            let node = stage.from
            if node.values.count >= 3 {
                let asWord = node.values[1]
                let from = node.keyword
                if (from == from.uppercased() && asWord != asWord.uppercased())
                    || (from == from.lowercased() && asWord != asWord.lowercased()) {
                    report(.fromAsCasing, node, "'\(asWord)' and '\(from)' keywords' casing do not match")
                }
            }
            guard let name = stage.name else { continue }
            if name != name.lowercased() {
                report(.stageNameCasing, node, "Stage name '\(name)' should be lowercase")
            }
            if ["scratch", "context"].contains(name.lowercased()) {
                report(.reservedStageName, node, "Stage name should not use the same name as reserved stage \"\(name)\"")
            }
            if !seen.insert(name.lowercased()).inserted {
                report(.duplicateStageName, node, "Duplicate stage name \"\(name)\", stage names should be unique")
            }
        }
    }

    struct Lookup: VariableLookup {
        var values: [String: String]
        func lookup(_ name: String) -> String? { values[name] }
    }

    mutating func checkFromArgs() {
        var declared: [String: String] = [:]
        for arg in globalArgs { declared[arg.name] = arg.value ?? "" }
        for name in Self.builtinArgs { declared[name] = declared[name] ?? "linux/amd64" }
        let lexer = parsed.lexer
        for stage in stages {
            let node = stage.from
            var words = [stage.baseName]
            for flag in node.flags where flag.hasPrefix("--platform=") { words.append(String(flag.dropFirst(11))) }
            for word in words {
                guard let result = try? lexer.process(word, env: Lookup(values: declared)) else { continue }
                for name in result.unmatched.sorted() {
                    report(.undefinedArgInFrom, node, "FROM argument '\(name)' is not declared")
                }
            }
            if stage.baseName.contains("$"), let expanded = try? lexer.processWord(stage.baseName, env: Lookup(values: declared)),
               !Self.isValidReference(expanded) {
                report(.invalidDefaultArgInFrom, node,
                       "Default value for ARG \(stage.baseName) results in empty or invalid base image name")
            }
            for flag in node.flags where flag.hasPrefix("--platform=") {
                let value = String(flag.dropFirst(11))
                if value == "$TARGETPLATFORM" || value == "${TARGETPLATFORM}" {
                    report(.redundantTargetPlatform, node,
                           "Setting platform to predefined \(value) in FROM is redundant as this is the default behavior")
                } else if !value.contains("$"), let p = try? OCI.Platform(parsing: value) {
                    // BuildKit's reportConstPlatformDisallowed: the normalised OS or CPU named
                    // anywhere in the stage's name (`build_amd64`, `linux-tools`) means the stage
                    // is meant for that platform; a value that does not parse fails later.
                    let name = stage.name?.lowercased() ?? ""
                    if name.contains(p.os) || name.contains(p.architecture) { continue }
                    report(.fromPlatformFlagConstDisallowed, node,
                           "FROM --platform flag should not use constant value \"\(value)\"")
                }
            }
        }
    }

    /// A loose check of an image reference: non-empty, lowercase repository, no dangling separators.
    static func isValidReference(_ ref: String) -> Bool {
        guard !ref.isEmpty, !ref.contains(" "), !ref.hasSuffix(":"), !ref.hasSuffix("@"), !ref.hasSuffix("/"),
              !ref.hasPrefix(":"), !ref.hasPrefix("/"), !ref.contains("//"), !ref.contains("::") else { return false }
        let repository = ref.split(separator: "@").first.map { part -> Substring in
            if let colon = part.lastIndex(of: ":"), !part[colon...].contains("/") { return part[..<colon] }
            return part
        } ?? ""
        let path = repository.split(separator: "/", maxSplits: 1)
        let name = path.count == 2 && (path[0].contains(".") || path[0].contains(":") || path[0] == "localhost")
            ? path[1] : repository
        return !name.isEmpty && name == name.lowercased()
    }

    /// Names the stage defines before `position` (ARG, ENV), plus what it inherits.
    mutating func checkInstructions(in index: Int) {
        let stage = stages[index]
        var defined: [String: String] = [:]
        for name in Self.builtinArgs { defined[name] = "x" }
        // BuildKit gives every Linux image a default PATH when its base has none (even scratch).
        defined["PATH"] = "x"
        var workdirSet = false
        if let parent = stage.parent {
            for name in definedNames(of: parent) { defined[name] = "x" }
            workdirSet = stageSetsAbsoluteWorkdir(parent)
        } else if stage.baseName.lowercased() != "scratch" {
            for name in Self.commonImageEnv { defined[name] = "x" }
        }
        var seenOnce: [String: Node] = [:]
        // BuildKit skips JSONArgsRecommended once the image config has a Shell (SHELL here or
        // in a stage this one is built FROM).
        var shellChanged = stage.parent.map(stageSetsShell) ?? false
        let lexer = parsed.lexer
        for node in stage.nodes {
            let command = node.command
            // Variables used by instructions the frontend expands.
            if ["add", "copy", "env", "expose", "label", "stopsignal", "user", "volume", "workdir", "arg"].contains(command) {
                var words: [String] = []
                switch command {
                case "env", "label": words = node.keyValuePairs.map(\.value)
                case "arg": words = node.values.compactMap { Self.splitArg($0).value }
                default: words = node.values.filter { !$0.hasPrefix("<<") }
                }
                words += node.flags.compactMap { flag in flag.split(separator: "=", maxSplits: 1).dropFirst().first.map(String.init) }
                var reported: Set<String> = []
                for word in words {
                    guard let result = try? lexer.process(word, env: Lookup(values: defined)) else { continue }
                    for name in result.unmatched.sorted() where reported.insert(name).inserted {
                        report(.undefinedVar, node, "Usage of undefined variable '$\(name)'")
                    }
                }
            }
            switch command {
            case "arg":
                for word in node.values {
                    let (name, _) = Self.splitArg(word)
                    defined[name] = "x"
                    checkSecret(name, instruction: "ARG", node)
                }
            case "env":
                for pair in node.keyValuePairs {
                    defined[pair.key] = "x"
                    checkSecret(pair.key, instruction: "ENV", node)
                }
                if node.keyValuePairs.contains(where: \.legacy) {
                    report(.legacyKeyValueFormat, node, "\"ENV key=value\" should be used instead of legacy \"ENV key value\" format")
                }
            case "label":
                if node.keyValuePairs.contains(where: \.legacy) {
                    report(.legacyKeyValueFormat, node, "\"LABEL key=value\" should be used instead of legacy \"LABEL key value\" format")
                }
            case "maintainer":
                report(.maintainerDeprecated, node, "Maintainer instruction is deprecated in favor of using label")
            case "shell":
                shellChanged = true
            case "cmd", "entrypoint":
                if !node.isJSON, !shellChanged {
                    report(.jsonArgsRecommended, node,
                           "JSON arguments recommended for \(command.uppercased()) to prevent unintended behavior related to OS signals")
                }
            case "workdir":
                let path = node.values.first ?? ""
                if path.hasPrefix("/") || path.hasPrefix("$") {
                    workdirSet = true
                } else if !workdirSet {
                    report(.workdirRelativePath, node, "Relative workdir \"\(path)\" can have unexpected results if the base image changes")
                }
            case "expose":
                for port in node.values {
                    if port.contains(":") {
                        report(.exposeInvalidFormat, node,
                               "EXPOSE instruction should not define an IP address or host-port mapping, found '\(port)'")
                    } else if let slash = port.firstIndex(of: "/"), port[slash...] != port[slash...].lowercased() {
                        report(.exposeProtoCasing, node, "Defined protocol '\(port)' in EXPOSE instruction should be lowercase")
                    }
                }
            default:
                break
            }
            if ["cmd", "entrypoint", "healthcheck"].contains(command) {
                if let previous = seenOnce[command] {
                    report(.multipleInstructionsDisallowed, previous,
                           "Multiple \(command.uppercased()) instructions should not be used in the same stage because only the last one will be used")
                }
                seenOnce[command] = node
            }
        }
    }

    /// What each stage passes on to stages built FROM it, computed once in stage order (a
    /// parent always comes earlier): walking the parent chain again for every stage made a
    /// chain of 10,000 stages quadratic (and recursed 10,000 deep).
    mutating func computeInheritance() {
        inherited = []
        inherited.reserveCapacity(stages.count)
        for stage in stages {
            var facts: InheritedFacts
            if let parent = stage.parent {
                facts = inherited[parent]
            } else {
                facts = InheritedFacts(envNames: stage.baseName.lowercased() != "scratch" ? Self.commonImageEnv : [])
            }
            for node in stage.nodes {
                switch node.command {
                case "env": for pair in node.keyValuePairs { facts.envNames.insert(pair.key) }
                case "shell": facts.setsShell = true
                case "workdir" where node.values.first?.hasPrefix("/") ?? false: facts.setsAbsoluteWorkdir = true
                default: break
                }
            }
            inherited.append(facts)
        }
    }

    func definedNames(of index: Int) -> Set<String> { inherited[index].envNames }

    func stageSetsShell(_ index: Int) -> Bool { inherited[index].setsShell }

    func stageSetsAbsoluteWorkdir(_ index: Int) -> Bool { inherited[index].setsAbsoluteWorkdir }

    static let secretWords: Set<String> = ["apikey", "auth", "credential", "credentials", "key", "password", "pword",
                                           "passwd", "secret", "token"]

    mutating func checkSecret(_ name: String, instruction: String, _ node: Node) {
        let words = name.lowercased().split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        guard words.contains(where: Self.secretWords.contains), !words.contains("public") else { return }
        report(.secretsUsedInArgOrEnv, node, "Do not use ARG or ENV instructions for sensitive data (\(instruction) \"\(name)\")")
    }
}
