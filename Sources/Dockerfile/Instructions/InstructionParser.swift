/// Turns syntax nodes into typed, validated instructions (BuildKit's `instructions.Parse`).
public enum InstructionParser {
    /// Parses one node. Errors name the file, line, instruction and problem.
    public static func parse(_ node: Node, file: String = "") throws(DockerfileError) -> Instruction {
        do {
            return try parseOrFail(node)
        } catch {
            throw DockerfileError(.instruction, file: file, line: node.startLine, endLine: node.endLine,
                                  instruction: node.keyword, message: error.message)
        }
    }

    static func parseOrFail(_ node: Node) throws(ValidationFailure) -> Instruction {
        let args = node.values
        switch node.command {
        case "env":
            try noFlags(node)
            return .env(try keyValues(node, "ENV"))
        case "label":
            try noFlags(node)
            return .label(try keyValues(node, "LABEL"))
        case "maintainer":
            guard args.count == 1 else { throw ValidationFailure("MAINTAINER requires exactly one argument") }
            try noFlags(node)
            return .maintainer(args[0])
        case "from":
            var flags = BuilderFlags([("platform", .string)])
            if let e = flags.parse(node.flags) { throw ValidationFailure(e) }
            let name: String?
            if args.count == 3 && args[1].lowercased() == "as" {
                let lower = args[2].lowercased()
                guard isValidStageName(lower) else {
                    throw ValidationFailure("invalid name for build stage: \"\(args[2])\", name can't start with a number or contain symbols")
                }
                name = lower
            } else if args.count == 1 {
                name = nil
            } else {
                throw ValidationFailure("FROM requires either one or three arguments")
            }
            return .from(From(base: args[0], name: name, platform: flags.string("platform")))
        case "onbuild":
            guard let trigger = node.trigger else { throw ValidationFailure("ONBUILD requires at least one argument") }
            try noFlags(node)
            let t = trigger.keyword.uppercased()
            switch t {
            case "ONBUILD": throw ValidationFailure("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
            case "MAINTAINER", "FROM": throw ValidationFailure("\(t) isn't allowed as an ONBUILD trigger")
            default: break
            }
            var expression = stripOnbuildKeyword(node.original)
            for h in node.heredocs {
                expression += "\n" + h.content + h.name
            }
            return .onbuild(OnBuild(expression: expression, trigger: trigger))
        case "workdir":
            guard args.count == 1 else { throw ValidationFailure("WORKDIR requires exactly one argument") }
            try noFlags(node)
            return .workdir(args[0])
        case "run":
            var flags = BuilderFlags([("mount", .strings), ("network", .string), ("security", .string), ("device", .strings)])
            if let e = flags.parse(node.flags) { throw ValidationFailure(e) }
            let network = flags.string("network") ?? "default"
            guard ["default", "none", "host"].contains(network) else {
                throw ValidationFailure("invalid network mode \"\(network)\"")
            }
            let security = flags.string("security") ?? "sandbox"
            guard ["sandbox", "insecure"].contains(security) else {
                throw ValidationFailure("security \"\(security)\" is not valid")
            }
            // BuildKit accepts an empty RUN here and fails when it runs `sh -c` with nothing.
            guard !args.isEmpty else { throw ValidationFailure("RUN requires a command") }
            let specs = flags.list("mount")
            var mounts: [Mount] = []
            for spec in specs {
                do {
                    // Fully validate mounts without variables now; others after expansion.
                    let identity: ((String) throws(ExpansionError) -> String)? = spec.hasByte("$") ? nil : { $0 }
                    mounts.append(try Mount.parse(spec, expand: identity))
                } catch {
                    throw ValidationFailure(error.message)
                }
            }
            return .run(Run(command: commandForm(node), heredocs: node.heredocs, mountSpecs: specs, mounts: mounts,
                            network: network, security: security, devices: flags.list("device")))
        case "cmd":
            try noFlags(node)
            return .cmd(commandForm(node))
        case "entrypoint":
            try noFlags(node)
            return .entrypoint(commandForm(node))
        case "healthcheck":
            return .healthcheck(try healthcheck(node))
        case "expose":
            guard !args.isEmpty else { throw ValidationFailure("EXPOSE requires at least one argument") }
            try noFlags(node)
            for p in args where !p.hasByte("$") {
                if let e = Validation.checkPort(p) { throw ValidationFailure(e) }
            }
            return .expose(args)
        case "user":
            guard args.count == 1 else { throw ValidationFailure("USER requires exactly one argument") }
            try noFlags(node)
            return .user(args[0])
        case "volume":
            guard !args.isEmpty else { throw ValidationFailure("VOLUME requires at least one argument") }
            try noFlags(node)
            var volumes: [String] = []
            for v in args {
                let t = LineParsers.trimSpace(v)
                guard !t.isEmpty else { throw ValidationFailure("VOLUME specified can not be an empty string") }
                volumes.append(t)
            }
            return .volume(volumes)
        case "stopsignal":
            guard args.count == 1 else { throw ValidationFailure("STOPSIGNAL requires exactly one argument") }
            return .stopSignal(args[0])
        case "arg":
            guard !args.isEmpty else { throw ValidationFailure("ARG requires at least one argument") }
            var defs: [ArgDefinition] = []
            for a in args {
                if let eq = a.firstIndex(of: "=") {
                    let key = String(a[..<eq])
                    guard !key.isEmpty else { throw ValidationFailure("ARG names can not be blank") }
                    defs.append(ArgDefinition(key: key, defaultValue: String(a[a.index(after: eq)...]),
                                              docComment: docComment(node.comments, key)))
                } else {
                    defs.append(ArgDefinition(key: a, docComment: docComment(node.comments, a)))
                }
            }
            return .arg(defs)
        case "shell":
            try noFlags(node)
            guard !args.isEmpty else { throw ValidationFailure("SHELL requires at least one argument") }
            guard node.isJSON else {
                throw ValidationFailure("SHELL requires the arguments to be in JSON form, e.g. SHELL [\"/bin/bash\", \"-c\"]")
            }
            let words = args
            return .shell(words)
        case "copy":
            guard args.count >= 2 else {
                throw ValidationFailure("COPY requires at least two arguments, but only one was provided. Destination could not be determined")
            }
            var flags = BuilderFlags([("chown", .string), ("from", .string), ("chmod", .string), ("link", .bool),
                                      ("exclude", .strings), ("parents", .bool)])
            if let e = flags.parse(node.flags) { throw ValidationFailure(e) }
            let (sources, contents, dest) = try sourcesAndDest(node, "COPY")
            let chmod = flags.string("chmod").flatMap { $0.isEmpty ? nil : $0 }
            if let chmod, !chmod.hasByte("$"), let e = Validation.checkChmod(chmod) { throw ValidationFailure(e) }
            let from = flags.string("from").flatMap { $0.isEmpty ? nil : $0 }
            if let from {
                // BuildKit expands --from with an empty environment and rejects any change.
                let lexer = ShellLexer(escape: "\\")
                let expanded = try? lexer.processWord(from, env: EmptyLookup())
                if expanded != from {
                    throw ValidationFailure("variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround")
                }
            }
            return .copy(Copy(sources: sources, heredocSources: contents, destination: dest, from: from,
                              chown: flags.string("chown").flatMap { $0.isEmpty ? nil : $0 }, chmod: chmod,
                              link: flags.bool("link"), parents: flags.bool("parents"), excludes: flags.list("exclude")))
        case "add":
            guard args.count >= 2 else {
                throw ValidationFailure("ADD requires at least two arguments, but only one was provided. Destination could not be determined")
            }
            var flags = BuilderFlags([("chown", .string), ("chmod", .string), ("link", .bool), ("keep-git-dir", .bool),
                                      ("checksum", .string), ("unpack", .bool), ("exclude", .strings)])
            if let e = flags.parse(node.flags) { throw ValidationFailure(e) }
            let (sources, contents, dest) = try sourcesAndDest(node, "ADD")
            let chmod = flags.string("chmod").flatMap { $0.isEmpty ? nil : $0 }
            if let chmod, !chmod.hasByte("$"), let e = Validation.checkChmod(chmod) { throw ValidationFailure(e) }
            let checksum = flags.string("checksum").flatMap { $0.isEmpty ? nil : $0 }
            if checksum != nil, let e = Validation.checkChecksumSources(sources) { throw ValidationFailure(e) }
            return .add(Add(sources: sources, heredocSources: contents, destination: dest,
                            chown: flags.string("chown").flatMap { $0.isEmpty ? nil : $0 }, chmod: chmod,
                            link: flags.bool("link"), keepGitDir: flags.optionalBool("keep-git-dir"),
                            checksum: checksum, unpack: flags.optionalBool("unpack"), excludes: flags.list("exclude")))
        default:
            var msg = "unknown instruction: \(node.keyword)"
            if let s = Suggest.closest(node.command, among: allKeywords) { msg += " (did you mean \(s.uppercased())?)" }
            throw ValidationFailure(msg)
        }
    }

    static let allKeywords = ["add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from", "healthcheck",
                              "label", "maintainer", "onbuild", "run", "shell", "stopsignal", "user", "volume", "workdir"]

    static func noFlags(_ node: Node) throws(ValidationFailure) {
        var flags = BuilderFlags([])
        if let e = flags.parse(node.flags) { throw ValidationFailure(e) }
    }

    static func isValidStageName(_ s: String) -> Bool {
        // ^[a-z][a-z0-9-_.]*$
        guard let f = s.unicodeScalars.first, f >= "a", f <= "z" else { return false }
        return s.unicodeScalars.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "-" || $0 == "_" || $0 == "." }
    }

    static func keyValues(_ node: Node, _ name: String) throws(ValidationFailure) -> [KeyValue] {
        let pairs = node.keyValuePairs
        guard !pairs.isEmpty else { throw ValidationFailure("\(name) requires at least one argument") }
        var out: [KeyValue] = []
        for p in pairs {
            guard !p.key.isEmpty else { throw ValidationFailure("\(name) names can not be blank") }
            out.append(KeyValue(key: p.key, value: p.value, legacy: p.legacy))
        }
        return out
    }

    static func commandForm(_ node: Node) -> CommandForm {
        if node.isJSON { return .exec(node.values) }
        if node.values.isEmpty { return .shell("") }
        return .shell(node.values.joined(separator: " "))
    }

    static func healthcheck(_ node: Node) throws(ValidationFailure) -> Healthcheck {
        let args = node.values
        guard let first = args.first else { throw ValidationFailure("HEALTHCHECK requires at least one argument") }
        let typ = first.uppercased()
        let rest = Array(args.dropFirst())
        if typ == "NONE" {
            guard rest.isEmpty else { throw ValidationFailure("HEALTHCHECK NONE takes no arguments") }
            return Healthcheck(test: .none)
        }
        var flags = BuilderFlags([("interval", .string), ("timeout", .string), ("start-period", .string),
                                  ("start-interval", .string), ("retries", .string)])
        if let e = flags.parse(node.flags) { throw ValidationFailure(e) }
        guard typ == "CMD" else { throw ValidationFailure("Unknown type \"\(typ)\" in HEALTHCHECK (try CMD)") }
        guard !rest.isEmpty else { throw ValidationFailure("Missing command after HEALTHCHECK CMD") }
        let form: CommandForm = node.isJSON ? .exec(rest) : .shell(rest.joined(separator: " "))
        var h = Healthcheck(test: .command(form))
        func interval(_ name: String) throws(ValidationFailure) -> Int64? {
            switch Validation.healthInterval(flags.string(name), flag: name) {
            case .success(let v): return v
            case .failure(let e): throw e
            }
        }
        h.intervalNanoseconds = try interval("interval")
        h.timeoutNanoseconds = try interval("timeout")
        h.startPeriodNanoseconds = try interval("start-period")
        h.startIntervalNanoseconds = try interval("start-interval")
        if let r = flags.string("retries"), !r.isEmpty {
            guard let n = Int32(r) else { throw ValidationFailure("strconv.ParseInt: parsing \"\(r)\": invalid syntax (--retries)") }
            guard n >= 0 else { throw ValidationFailure("--retries cannot be negative (\(n))") }
            h.retries = Int(n)
        }
        return h
    }

    static func sourcesAndDest(_ node: Node, _ command: String) throws(ValidationFailure) -> ([String], [HeredocSource], String) {
        let args = node.values
        let dest = args[args.count - 1]
        if (try? Heredocs.parse(dest)) ?? nil != nil {
            throw ValidationFailure("\(command) cannot accept a heredoc as a destination")
        }
        var byName: [String: Heredoc] = [:]
        for h in node.heredocs { byName[h.name] = h }
        var sources: [String] = []
        var contents: [HeredocSource] = []
        for src in args.dropLast() {
            if let h = (try? Heredocs.parse(src)) ?? nil {
                let body = byName[h.name]?.content ?? ""
                contents.append(HeredocSource(path: h.name, data: h.chomp ? Heredoc.chompLeadingTabs(body) : body, expand: h.expand))
            } else {
                sources.append(src)
            }
        }
        return (sources, contents, dest)
    }

    static func docComment(_ comments: [String], _ name: String) -> String? {
        for line in comments where line.hasPrefix(name + " ") {
            return String(line.dropFirst(name.count + 1))
        }
        return nil
    }

    static func stripOnbuildKeyword(_ original: String) -> String {
        // (?i)^\s*ONBUILD\s*
        var s = Substring(original)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        if s.prefix(7).uppercased() == "ONBUILD" { s = s.dropFirst(7) }
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        return String(s)
    }
}
