import Dockerfile
import Foundation

/// Applies Dockerfile instructions to a stage's image config and history exactly as BuildKit's
/// dockerfile2llb does (see docs/ARCHITECTURE.md "Build engine"). Pure: no I/O; the executor
/// calls it for every instruction with the values the frontend's `StageScope` expanded (the
/// scope, not this type, owns variables), and for RUN/COPY/ADD/WORKDIR records a history entry
/// whose `emptyLayer` is decided after the step ran (an empty diff adds no layer).
public struct StageConfigMachine: Sendable {
    public var image: StageImage
    /// Whether CMD appeared in this stage; ENTRYPOINT resets an inherited CMD otherwise.
    public private(set) var cmdSetInStage = false
    /// The time written into history entries (nil until SOURCE_DATE_EPOCH support).
    public var epoch: Date? = nil

    /// Starts a stage from its base: `nil` means `scratch`. ONBUILD triggers of the base are not
    /// inherited (the executor runs them first); PATH is always set.
    public init(base: StageImage?) {
        var img: StageImage
        if let base {
            img = base
        } else {
            // BuildKit's emptyImage(): scratch starts with WorkingDir "/" (and PATH, below).
            img = StageImage()
            img.config.workingDir = "/"
        }
        img.config.onBuild = nil
        if !img.config.env.contains(where: { Self.envKey($0) == "PATH" }) {
            img.config.env.append("PATH=" + StageImage.defaultPath)
        }
        self.image = img
    }

    static func envKey(_ kv: String) -> String {
        if let eq = kv.firstIndex(of: "=") { return String(kv[..<eq]) }
        return kv
    }

    // MARK: - metadata instructions

    public mutating func env(_ pairs: [(key: String, value: String)]) {
        var msg = "ENV"
        for (k, v) in pairs {
            msg += " \(k)=\(v)"
            if let i = image.config.env.firstIndex(where: { Self.envKey($0) == k }) {
                image.config.env[i] = "\(k)=\(v)"
            } else {
                image.config.env.append("\(k)=\(v)")
            }
        }
        commit(msg, layer: false)
    }

    public mutating func label(_ pairs: [(key: String, value: String)]) {
        var msg = "LABEL"
        for (k, v) in pairs {
            image.config.labels[k] = v
            msg += " \(k)=\(v)"
        }
        commit(msg, layer: false)
    }

    /// ARG: `value` is the value the frontend resolved (a --build-arg wins over the default; an
    /// ARG without default takes the global value), or nil when it has none. History only: the
    /// stage's `StageScope` holds the variables.
    public mutating func arg(_ pairs: [(key: String, value: String?)]) {
        var parts: [String] = []
        for (k, v) in pairs {
            parts.append(v.map { "\(k)=\($0)" } ?? k)
        }
        commit("ARG " + parts.joined(separator: " "), layer: false)
    }

    public mutating func user(_ user: String) {
        image.config.user = user
        commit("USER \(user)", layer: false)
    }

    public mutating func maintainer(_ name: String) {
        image.author = name
        commit("MAINTAINER \(name)", layer: false)
    }

    /// Shell-form commands are wrapped in the stage's SHELL (default `/bin/sh -c`).
    public func withShell(_ args: [String], shellForm: Bool) -> [String] {
        guard shellForm else { return args }
        return (image.config.shell ?? StageImage.defaultShell) + [args.joined(separator: " ")]
    }

    public mutating func cmd(_ args: [String], shellForm: Bool) {
        let a = withShell(args, shellForm: shellForm)
        image.config.cmd = a
        image.config.argsEscaped = true
        cmdSetInStage = true
        commit("CMD \(GoFormat.quotedList(a))", layer: false)
    }

    public mutating func entrypoint(_ args: [String], shellForm: Bool) {
        let a = withShell(args, shellForm: shellForm)
        image.config.entrypoint = a
        if !cmdSetInStage { image.config.cmd = nil }
        commit("ENTRYPOINT \(GoFormat.quotedList(a))", layer: false)
    }

    public mutating func shell(_ args: [String]) {
        image.config.shell = args
        commit("SHELL \(GoFormat.plainList(args))", layer: false)
    }

    public mutating func expose(_ specs: [String]) throws(ConfigError) {
        var ports: [String] = []
        for s in specs { ports += try Self.parsePortSpec(s) }
        for p in ports { image.config.exposedPorts.insert(p) }
        commit("EXPOSE \(GoFormat.plainList(ports))", layer: false)
    }

    public mutating func volume(_ paths: [String]) throws(ConfigError) {
        for v in paths {
            if v.isEmpty { throw .emptyVolume }
            image.config.volumes.insert(v)
        }
        commit("VOLUME \(GoFormat.plainList(paths))", layer: false)
    }

    public mutating func stopSignal(_ signal: String) throws(ConfigError) {
        guard Self.isValidSignal(signal) else { throw .invalidSignal(signal) }
        image.config.stopSignal = signal
        commit("STOPSIGNAL \(signal)", layer: false)
    }

    /// `nil` is `HEALTHCHECK NONE`.
    public mutating func healthcheck(_ hc: StageHealthcheck?) {
        let h = hc ?? StageHealthcheck(test: ["NONE"])
        image.config.healthcheck = h
        commit("HEALTHCHECK " + GoFormat.healthcheck(h), layer: false)
    }

    public mutating func onbuild(_ expression: String) {
        image.config.onBuild = (image.config.onBuild ?? []) + [expression]
    }

    /// WORKDIR: resolves `path` against the current working dir and returns it; the executor
    /// creates the directory and then calls `commitLayerStep`. BuildKit makes no layer for `/`.
    public mutating func workdir(_ path: String) -> String {
        let base = image.config.workingDir.isEmpty ? "/" : image.config.workingDir
        let wd = Self.cleanPath(path.hasPrefix("/") ? path : base + "/" + path)
        image.config.workingDir = wd
        return wd
    }

    // MARK: - history

    /// `RUN` history text: `|N K=V ...` for the stage's ARGs (`args`, with the values `env`
    /// — the stage scope's variables — gives them), then the argv joined by spaces.
    public func runCreatedBy(_ argv: [String], args: [(key: String, value: String?)], env: Environment) -> String {
        var parts: [String] = []
        var index: [String: Int] = [:]
        for a in args {
            let v = env[a.key] ?? a.value ?? ""
            if let i = index[a.key] { parts[i] = "\(a.key)=\(v)" } else {
                index[a.key] = parts.count
                parts.append("\(a.key)=\(v)")
            }
        }
        if !parts.isEmpty { parts.insert("|\(parts.count)", at: 0) }
        return "RUN " + (parts + argv).joined(separator: " ")
    }

    /// `COPY`/`ADD` history text as dockerfile2llb's `dispatchCopy` writes it: the verb, then
    /// `--parents`, `--chown=…`, `--chmod=…` (expanded values, only when set — an expansion
    /// to "" counts as unset), the sources (heredocs as `<<NAME`) and the destination.
    /// BuildKit leaves `--from`, `--link`, `--exclude` and ADD's `--checksum`/`--unpack`/
    /// `--keep-git-dir` out, and ADD never records `--parents` (its config does not pass it).
    public static func copyCreatedBy(add: Bool, parents: Bool = false, chown: String? = nil, chmod: String? = nil,
                                     sources: [String], dest: String) -> String {
        var words = [add ? "ADD" : "COPY"]
        if parents && !add { words.append("--parents") }
        if let chown, !chown.isEmpty { words.append("--chown=" + chown) }
        if let chmod, !chmod.isEmpty { words.append("--chmod=" + chmod) }
        return (words + sources + [dest]).joined(separator: " ")
    }

    /// The history text of an expanded COPY/ADD step (see the overload above).
    public static func copyCreatedBy(_ copy: CopyStep) -> String {
        let s = copy.spec
        return copyCreatedBy(add: s.isAdd, parents: s.parents, chown: s.chown, chmod: s.chmod,
                             sources: s.sources + copy.heredocs.map { "<<" + $0.name }, dest: s.destination)
    }

    /// Records a filesystem step (RUN, COPY, ADD, WORKDIR) after it ran. BuildKit appends
    /// " # buildkit" to RUN/COPY/ADD; a step whose diff was empty adds no layer.
    public mutating func commitLayerStep(_ createdBy: String, hasLayer: Bool, buildkitSuffix: Bool = true) {
        commit(buildkitSuffix ? createdBy + " # buildkit" : createdBy, layer: hasLayer)
    }

    mutating func commit(_ msg: String, layer: Bool) {
        image.history.append(StageHistoryEntry(created: epoch, createdBy: msg,
                                          comment: StageHistoryEntry.buildkitComment, emptyLayer: !layer))
    }

    // MARK: - helpers

    /// Lexical path clean (Go's path.Clean) for absolute paths.
    public static func cleanPath(_ p: String) -> String {
        var out: [Substring] = []
        for comp in p.split(separator: "/", omittingEmptySubsequences: true) {
            if comp == "." { continue }
            if comp == ".." { if !out.isEmpty { out.removeLast() }; continue }
            out.append(comp)
        }
        return "/" + out.joined(separator: "/")
    }

    /// `80`, `80/udp`, `8000-8002/tcp`, `127.0.0.1:80:80` → `port/proto` entries.
    static func parsePortSpec(_ raw: String) throws(ConfigError) -> [String] {
        var spec = raw
        var proto = "tcp"
        if let slash = spec.lastIndex(of: "/") {
            proto = String(spec[spec.index(after: slash)...]).lowercased()
            spec = String(spec[..<slash])
        }
        guard ["tcp", "udp", "sctp"].contains(proto) else { throw .invalidPort(raw) }
        // ip:hostPort:containerPort — only the container port is exposed.
        if let colon = spec.lastIndex(of: ":") { spec = String(spec[spec.index(after: colon)...]) }
        let bounds = spec.split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 1 || bounds.count == 2,
              let lo = Int(bounds[0]), let hi = Int(bounds.last!), lo >= 0, hi <= 65535, lo <= hi
        else { throw .invalidPort(raw) }
        return (lo...hi).map { "\($0)/\(proto)" }
    }

    static func isValidSignal(_ s: String) -> Bool {
        if let n = Int(s) { return n > 0 && n < 65 }
        let name = s.uppercased().hasPrefix("SIG") ? String(s.uppercased().dropFirst(3)) : s.uppercased()
        let known: Set<String> = ["ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO",
                                  "IOT", "KILL", "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT",
                                  "STOP", "SYS", "TERM", "TRAP", "TSTP", "TTIN", "TTOU", "URG", "USR1",
                                  "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ"]
        if known.contains(name) { return true }
        if name.hasPrefix("RTMIN") || name.hasPrefix("RTMAX") { return true }
        return false
    }
}

/// A metadata instruction whose argument is invalid.
public enum ConfigError: Error, Equatable, CustomStringConvertible {
    case invalidPort(String)
    case emptyVolume
    case invalidSignal(String)

    public var description: String {
        switch self {
        case .invalidPort(let p): return "invalid port specification \"\(p)\" (use PORT, PORT/tcp, PORT/udp or LOW-HIGH)"
        case .emptyVolume: return "VOLUME specified can not be an empty string"
        case .invalidSignal(let s): return "invalid signal \"\(s)\" (use a name like SIGTERM or a number)"
        }
    }
}
