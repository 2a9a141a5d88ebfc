import Dockerfile
import Foundation
import System

/// ShellCheck on RUN scripts, as hadolint does, through Debian's `shellcheck` binary (a
/// library would be Haskell): each shell-form RUN (and each heredoc script) is checked on its
/// own, and every finding is reported as `SCnnnn: message` on the Dockerfile line it is on.
public enum ShellCheck {
    /// The binary, when installed.
    public static var binary: String? { ChildProcess.which("shellcheck") }

    /// Codes that only say "this variable comes from elsewhere": in a Dockerfile it comes from
    /// ARG or ENV (hadolint excludes the same), or a sourced file the check cannot see.
    static let excluded = ["SC2154", "SC1090", "SC1091"]

    struct Comment: Decodable {
        var line: Int
        var code: Int
        var level: String
        var message: String
    }
    struct Output: Decodable { var comments: [Comment] }

    /// Findings for `script` in `dialect` (`sh`, `bash`, …; nil when the script has a shebang):
    /// (line in the script, `SCnnnn: message`). Empty when shellcheck cannot run.
    static func check(_ script: String, dialect: String?, binary: String) -> [(line: Int, text: String, level: String)] {
        var template = Array((NSTemporaryDirectory() + "/slipway-shellcheck-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return [] }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { unlink(path) }
        let bytes = Array(script.utf8)
        let e = bytes.withUnsafeBytes { FileIO.writeFully(fd, $0) }
        close(fd)
        guard e == 0 else { return [] }
        var argv = [binary, "-f", "json1", "-e", excluded.joined(separator: ",")]
        if let dialect { argv += ["-s", dialect] }
        argv.append(path)
        guard let result = try? ChildProcess.run(argv), result.code <= 1,
              let output = try? JSONDecoder().decode(Output.self, from: Data(result.stdout)) else { return [] }
        return output.comments.map { ($0.line, "SC\($0.code): \($0.message)", $0.level) }
    }
}

extension LintContext {
    /// Runs ShellCheck over every shell-form RUN when `options.shellCheck` is on and the binary
    /// is installed. A heredoc script's findings land on its own lines; a one-line RUN's on the
    /// RUN's first line.
    mutating func checkShellScripts() {
        guard options.shellCheck, let binary = ShellCheck.binary else { return }
        for stage in stages {
            var dialect: String? = "sh"
            for node in stage.nodes {
                if node.command == "shell" {
                    let shell = (node.values.first ?? "").split(separator: "/").last.map(String.init) ?? ""
                    dialect = ["sh", "bash", "dash", "ksh"].contains(shell) ? shell : nil
                    continue
                }
                guard node.command == "run", !node.isJSON, let dialect else { continue }
                var scripts: [(text: String, firstLine: Int)] = []
                if node.heredocs.isEmpty {
                    scripts.append((node.values.joined(separator: " "), node.startLine))
                } else {
                    // The heredoc bodies follow the RUN line, in order.
                    var line = node.startLine + 1
                    for h in node.heredocs {
                        scripts.append((h.content, line))
                        line += h.content.split(separator: "\n", omittingEmptySubsequences: false).count
                    }
                }
                var seen = Set<String>()
                for script in scripts {
                    let shebang = script.text.hasPrefix("#!")
                    for finding in ShellCheck.check(script.text, dialect: shebang ? nil : dialect, binary: binary) {
                        let line = node.heredocs.isEmpty ? node.startLine : script.firstLine + finding.line - 1
                        // The same code several times on one line is one finding.
                        guard seen.insert("\(line) \(finding.text)").inserted else { continue }
                        report(.shellCheck, line: line, endLine: line, finding.text, inlineSkips: CheckDirective.inlineSkips(node.comments))
                    }
                }
            }
        }
    }
}
