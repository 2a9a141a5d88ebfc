import Dockerfile
import Foundation

/// hadolint's most common rules, on the same parse as BuildKit's checks: package pinning and
/// cache hygiene, `cd`/`sudo` in RUN, ADD of local files, pipefail. Each names its hadolint id in
/// its description, and `docs/lint.md` documents it.
extension LintContext {
    mutating func checkHadolintRules() {
        for stage in stages {
            var shellHasPipefail = false
            for node in stage.nodes {
                if node.command == "shell" {
                    shellHasPipefail = node.values.contains("pipefail")
                    continue
                }
                if node.command == "copy", let from = flagValue(node, "from"), let own = stage.name,
                   from.lowercased() == own.lowercased() {
                    report(.copyFromOwnStage, node, "COPY --from=\(from) names the stage it is in (line \(stage.from.startLine)); copy from an earlier stage")
                }
                if node.command == "add" { checkAddSources(node) }
                guard node.command == "run", !node.isJSON else { continue }
                let commands = Self.shellCommands(node)
                // A RUN that starts by changing directory wants a WORKDIR (a cd in the middle of a
                // compound command is a local step, as in the article's Java extractor).
                if let first = commands.first, first.first == "cd", first.count > 1 {
                    report(.cdInRun, node, "RUN cd \(first[1]): use WORKDIR \(first[1]) instead; a cd lasts only for this RUN")
                }
                for words in commands {
                    checkPackageCommand(words, node)
                    if words.first == "sudo" {
                        report(.sudoInRun, node, "RUN uses sudo: steps run as root unless USER says otherwise; drop sudo, or switch USER around the step")
                    }
                }
                let text = Self.shellText(node)
                if Self.hasPipe(text), !shellHasPipefail, !text.contains("pipefail") {
                    report(.pipefail, node, "RUN pipes into another command without pipefail: set SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"] or start the command with 'set -o pipefail &&'")
                }
            }
        }
    }

    /// ADD of local files that are not archives: COPY says what it does.
    mutating func checkAddSources(_ node: Node) {
        let archives = [".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".gz", ".bz2", ".xz", ".zst"]
        let sources = node.values.dropLast().filter { !$0.hasPrefix("<<") }
        let local = sources.filter { s in !s.contains("://") && !s.hasPrefix("git@") && !archives.contains { s.lowercased().hasSuffix($0) } }
        if !sources.isEmpty, local.count == sources.count {
            report(.addForLocalFiles, node, "ADD \(local.joined(separator: " ")): use COPY for local files (ADD also unpacks archives and fetches URLs)")
        }
    }

    /// Package managers called without versions, and apk without --no-cache.
    mutating func checkPackageCommand(_ words: [String], _ node: Node) {
        func packages(after index: Int) -> [String] {
            Array(words[(index + 1)...]).filter { !$0.hasPrefix("-") && !$0.hasPrefix("$") }
        }
        guard let tool = words.first else { return }
        if tool == "apt-get" || tool == "apt", let i = words.firstIndex(of: "install") {
            let unpinned = packages(after: i).filter { !$0.contains("=") && !$0.hasSuffix(".deb") }
            if !unpinned.isEmpty {
                report(.aptVersionPinned, node, "apt-get install \(unpinned.joined(separator: " ")) without versions: pin them (PKG=VERSION) for repeatable builds")
            }
        }
        if tool == "apk", let i = words.firstIndex(of: "add") {
            let unpinned = packages(after: i).filter { !$0.contains("=") }
            if !unpinned.isEmpty {
                report(.apkVersionPinned, node, "apk add \(unpinned.joined(separator: " ")) without versions: pin them (PKG=VERSION)")
            }
            if !words.contains("--no-cache") {
                report(.apkNoCache, node, "apk add without --no-cache keeps the package index in the layer: use apk add --no-cache")
            }
        }
        if tool == "pip" || tool == "pip3" || (tool.hasPrefix("python") && words.dropFirst().prefix(2) == ["-m", "pip"]),
           let i = words.firstIndex(of: "install") {
            var skipNext = false
            var unpinned: [String] = []
            for w in words[(i + 1)...] {
                if skipNext { skipNext = false; continue }
                if ["-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-t", "--target", "-i", "--index-url"].contains(w) { skipNext = true; continue }
                if w.hasPrefix("-") || w.hasPrefix("$") || w.hasPrefix(".") || w.hasPrefix("/") || w.contains("://") { continue }
                if w.contains("==") || w.contains(">=") || w.contains("<=") || w.contains("~=") || w.hasSuffix(".whl") { continue }
                unpinned.append(w)
            }
            if !unpinned.isEmpty {
                report(.pipVersionPinned, node, "pip install \(unpinned.joined(separator: " ")) without versions: pin them (PKG==VERSION) or use a requirements file")
            }
        }
        if tool == "npm", let i = words.firstIndex(where: { $0 == "install" || $0 == "i" || $0 == "add" }) {
            let unpinned = packages(after: i).filter { w in
                let name = w.hasPrefix("@") ? String(w.dropFirst()) : w
                return !name.contains("@") && !w.hasPrefix(".") && !w.hasPrefix("/") && !w.contains("://")
            }
            if !unpinned.isEmpty {
                report(.npmVersionPinned, node, "npm install \(unpinned.joined(separator: " ")) without versions: pin them (PKG@VERSION) or install from package-lock.json (npm ci)")
            }
        }
    }

    /// A RUN's shell text cut into simple commands (at `&&`, `||`, `;`, `|`, newlines), each as
    /// its words with `env`/variable assignments in front removed. Heredoc bodies count as script.
    static func shellCommands(_ node: Node) -> [[String]] {
        let text = (node.values + node.heredocs.map(\.content)).joined(separator: "\n")
        var commands: [[String]] = []
        var current: [String] = []
        for raw in text.replacingOccurrences(of: "&&", with: "\n").replacingOccurrences(of: "||", with: "\n")
            .split(whereSeparator: { $0 == "\n" || $0 == ";" || $0 == "|" }) {
            current = raw.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            while let first = current.first, first.contains("="), !first.hasPrefix("-"), !first.hasPrefix("=") { current.removeFirst() }
            if current.first == "(" || current.first == "{" { current.removeFirst() }
            if let first = current.first, first.hasPrefix("(") { current[0] = String(first.dropFirst()) }
            if !current.isEmpty { commands.append(current) }
        }
        return commands
    }

    /// A `|` that pipes (not `||`, not inside quotes).
    static func hasPipe(_ text: String) -> Bool {
        var quote: Character?
        var previous: Character = " "
        let chars = Array(text)
        for (i, c) in chars.enumerated() {
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "'" || c == "\"" {
                quote = c
            } else if c == "|", previous != "|", i + 1 < chars.count, chars[i + 1] != "|" {
                return true
            }
            previous = c
        }
        return false
    }
}
