import Dockerfile
import Foundation
import Inspect
import OCI

/// The build checks, run by `lint` and by `build` on the same parse the build uses: one owner
/// of "which rules, which .dockerignore, how a finding is shown".
enum DockerfileChecks {
    /// The `.dockerignore` a Dockerfile is built with: `<Dockerfile>.dockerignore` beside it,
    /// else the context's `.dockerignore` (BuildKit's precedence); nil when there is none.
    static func dockerignore(dockerfilePath: String?, contextDirectory: String) -> String? {
        var candidates: [String] = []
        if let dockerfilePath { candidates.append(dockerfilePath + ".dockerignore") }
        candidates.append(((contextDirectory.isEmpty ? "." : contextDirectory) as NSString).appendingPathComponent(".dockerignore"))
        for candidate in candidates {
            if let content = FileManager.default.contents(atPath: candidate) { return String(decoding: content, as: UTF8.self) }
        }
        return nil
    }

    static func run(_ parsed: ParsedDockerfile, dockerfilePath: String?, contextDirectory: String, target: String?,
                    shellCheck: Bool = false) -> LintResult {
        Linter.lint(parsed, options: LintOptions(dockerignore: dockerignore(dockerfilePath: dockerfilePath, contextDirectory: contextDirectory),
                                                  target: target, shellCheck: shellCheck))
    }

    /// BuildKit's summary after a build's checks: ` 2 warnings found:` then one line per
    /// finding with its line. Info-level findings are left to `lint`.
    static func summary(_ result: LintResult) -> String? {
        let shown = result.findings.filter { $0.level >= .warning }
        guard !shown.isEmpty else { return nil }
        var text = " \(shown.count) warning\(shown.count == 1 ? "" : "s") found (see `slipway lint` for details):\n"
        for f in shown {
            text += " - \(f.rule): \(DisplayText.abbreviated(DisplayText.escaped(f.message))) (\(f.file):\(f.line))\n"
        }
        return text
    }

    /// Whether the checks stop the build before any step runs: BuildKit fails a build on its
    /// checks only with `# check=error=true`, which makes its findings errors.
    static func failsBuild(_ result: LintResult, parsed: ParsedDockerfile) -> LintFinding? {
        guard let directive = parsed.check, CheckDirective(parsing: directive).error else { return nil }
        return result.findings.first { $0.level == .error }
    }
}
