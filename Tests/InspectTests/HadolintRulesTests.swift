import Foundation
import Testing
@testable import Inspect

/// hadolint's common rules on the linter's parse: each fires on the case hadolint's docs give,
/// and stays quiet on the fixed form.
@Suite struct HadolintRulesTests {
    private func rules(_ text: String) throws -> [String] {
        try Linter.lint(text: text, options: LintOptions(dockerignore: "node_modules\n")).findings.map(\.rule)
    }

    private let head = "FROM debian:12.5\n"
    private let tail = "USER nobody\n"

    @Test func cdSudoAddAndPipefail() throws {
        #expect(try rules(head + "RUN cd /app && make\n" + tail).contains("UseWorkdir"))
        #expect(try !rules(head + "WORKDIR /app\nRUN mkdir x && cd x && touch y\n" + tail).contains("UseWorkdir"))
        #expect(try rules(head + "RUN sudo make install\n" + tail).contains("NoSudo"))
        #expect(try rules(head + "ADD app.py /app/\n" + tail).contains("CopyInsteadOfAdd"))
        #expect(try !rules(head + "ADD rootfs.tar.gz /\n" + tail).contains("CopyInsteadOfAdd"))
        #expect(try !rules(head + "ADD https://example.com/x /x\n" + tail).contains("CopyInsteadOfAdd"))
        #expect(try rules(head + "RUN curl -fsS https://x | sh\n" + tail).contains("PipefailInRun"))
        #expect(try !rules(head + "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN curl -fsS https://x | sh\n" + tail).contains("PipefailInRun"))
        #expect(try !rules(head + "RUN test -f a || touch a\n" + tail).contains("PipefailInRun"))
        #expect(try !rules(head + "RUN echo 'a|b' > f\n" + tail).contains("PipefailInRun"))
    }

    @Test func apkCacheAndPinningIsOptIn() throws {
        #expect(try rules("FROM alpine:3.19\nRUN apk add curl\n" + tail).contains("ApkNoCache"))
        #expect(try !rules("FROM alpine:3.19\nRUN apk add --no-cache curl\n" + tail).contains("ApkNoCache"))
        // Pinning rules are experimental (opt-in), as BuildKit's CopyIgnoredFile.
        #expect(try !rules(head + "RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n" + tail).contains("AptGetVersionPinned"))
        let optIn = "# check=experimental=AptGetVersionPinned,ApkVersionPinned,PipVersionPinned,NpmVersionPinned\n"
        let pinned = try rules(optIn + head + """
            RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10 git && rm -rf /var/lib/apt/lists/*
            RUN pip install flask==3.0.0 requests -r requirements.txt
            RUN npm install -g typescript@5.4.2 left-pad
            RUN apk add --no-cache bash=5.2.21-r0 jq

            """ + tail)
        #expect(pinned.filter { $0 == "AptGetVersionPinned" }.count == 1)
        #expect(pinned.filter { $0 == "PipVersionPinned" }.count == 1)
        #expect(pinned.filter { $0 == "NpmVersionPinned" }.count == 1)
        #expect(pinned.filter { $0 == "ApkVersionPinned" }.count == 1)
        let messages = try Linter.lint(text: optIn + head + "RUN pip install flask==3.0.0 requests\n" + tail).findings.map(\.message)
        #expect(messages.contains { $0.contains("requests") && !$0.contains("flask") }, "\(messages)")
    }

    @Test("COPY --from its own stage is an error in lint, as it is in the build")
    func copyFromOwnStage() throws {
        let result = try Linter.lint(text: "FROM debian:12.5 AS app\nCOPY --from=app /a /b\nUSER nobody\n")
        #expect(result.findings.contains { $0.rule == "CopyFromOwnStage" && $0.line == 2 && $0.level == .error })
        #expect(result.hasErrors)
    }

    @Test("every rule URL points into docs/lint.md or BuildKit's docs, and docs/lint.md documents every Slipway rule")
    func ruleDocumentation() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("docs/lint.md"), encoding: .utf8)
        for rule in LintRule.all where !rule.isBuildKit {
            #expect(rule.url.hasSuffix("docs/lint.md#" + rule.name.lowercased()), "\(rule.url)")
            #expect(doc.contains("## \(rule.name)"), "docs/lint.md lacks a section for \(rule.name)")
        }
    }
}

/// ShellCheck on RUN scripts through Debian's binary, mapped to Dockerfile lines.
@Suite(.requires(.shellcheck)) struct ShellCheckLintTests {
    private func findings(_ text: String, shellCheck: Bool = true) throws -> [LintFinding] {
        try Linter.lint(text: text, options: LintOptions(shellCheck: shellCheck)).findings.filter { $0.rule == "ShellCheck" }
    }

    @Test func sc2086OnTheRunLineAndHeredocLines() throws {
        let text = "FROM debian:12.5\nRUN cp $SRC /dst\nRUN <<EOF\nset -e\nfor f in $(ls /etc); do echo \"$f\"; done\nEOF\nUSER nobody\n"
        let found = try findings(text)
        #expect(found.contains { $0.line == 2 && $0.message.hasPrefix("SC2086:") }, "\(found)")
        #expect(found.contains { $0.line == 5 && $0.message.hasPrefix("SC2045:") }, "\(found)")
        #expect(found.filter { $0.line == 2 }.count == 1, "one finding per code and line: \(found)")
        #expect(try findings(text, shellCheck: false).isEmpty)
        #expect(try findings("# check=skip=ShellCheck\n" + text).isEmpty)
        // A clean script and an exec-form RUN give nothing.
        #expect(try findings("FROM debian:12.5\nRUN cp \"$SRC\" /dst\nRUN [\"sh\", \"-c\", \"echo $1\"]\nUSER nobody\n").isEmpty)
    }
}
