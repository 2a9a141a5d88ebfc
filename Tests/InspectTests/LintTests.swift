import Dockerfile
import Foundation
import Testing
import TestSupport
@testable import Inspect

private func lint(_ text: String, dockerignore: String? = ArticleDockerfiles.dockerignore, target: String? = nil) throws -> LintResult {
    try Linter.lint(text: text, options: LintOptions(dockerignore: dockerignore, target: target))
}

private func rules(_ result: LintResult) -> [String] { result.findings.map(\.rule) }

@Suite struct ArticleLintTests {
    @Test(arguments: ArticleDockerfiles.fixed.map(\.0))
    func fixedVersionsAreClean(name: String) throws {
        let text = try #require(ArticleDockerfiles.fixed.first { $0.0 == name }?.1)
        let result = try lint(text)
        #expect(result.findings.isEmpty, "\(name): \(result.renderText())")
    }

    /// The article's Rust example keeps two of the article's own mistakes: the final stage has
    /// no USER (Mistake 4) and apt-get runs without --no-install-recommends.
    @Test func rustExampleKeepsTwoMistakes() throws {
        let result = try lint(ArticleDockerfiles.rust)
        #expect(rules(result) == ["FinalStageRunsAsRoot", "AptGetNoInstallRecommends"])
        #expect(result.findings.map(\.line) == [12, 13])
        #expect(!result.hasErrors)
    }

    @Test func mistake1CopyAllWithoutDockerignore() throws {
        let text = "FROM node:20.11.1-bookworm-slim\nWORKDIR /app\nCOPY . .\nUSER node\nCMD [\"node\", \"server.js\"]\n"
        let result = try lint(text, dockerignore: nil)
        #expect(rules(result) == ["CopyAllWithoutDockerignore"])
        #expect(result.findings.first?.line == 3)
        #expect(try lint(text).findings.isEmpty)
    }

    @Test func mistake2CopyAllBeforeInstall() throws {
        let result = try lint("FROM node:20.11.1-bookworm-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nUSER node\nCMD [\"node\", \"server.js\"]\n")
        #expect(rules(result) == ["CopyAllBeforeDependencyInstall"])
        #expect(result.findings.first?.line == 3)
        #expect(result.findings.first?.message.contains("COPY package.json package-lock.json first") == true)
        let pip = try lint("FROM python:3.12-slim\nCOPY . /app\nRUN pip install -r /app/requirements.txt\nUSER nobody\nCMD [\"python\", \"app.py\"]\n")
        #expect(rules(pip) == ["CopyAllBeforeDependencyInstall"])
    }

    @Test func mistake3LatestOrUntaggedBase() throws {
        let latest = try lint("FROM node:latest\nUSER node\nCMD [\"node\", \"server.js\"]\n")
        #expect(rules(latest) == ["LatestBaseImage"])
        #expect(latest.findings.first?.message.contains("'node:latest' uses :latest") == true)
        let untagged = try lint("FROM docker.io/library/alpine\nUSER nobody\nCMD [\"true\"]\n")
        #expect(rules(untagged) == ["LatestBaseImage"])
        let argTagged = try lint("ARG VERSION=3.19\nFROM alpine:${VERSION}\nUSER nobody\nCMD [\"true\"]\n")
        #expect(argTagged.findings.isEmpty)
        let digest = try lint("FROM alpine@sha256:\(String(repeating: "a", count: 64))\nUSER nobody\nCMD [\"true\"]\n")
        #expect(digest.findings.isEmpty)
    }

    @Test func mistake4RunsAsRoot() throws {
        let none = try lint("FROM node:20.11.1-bookworm-slim\nCMD [\"node\", \"server.js\"]\n")
        #expect(rules(none) == ["FinalStageRunsAsRoot"])
        #expect(none.findings.first?.line == 1)
        let root = try lint("FROM node:20.11.1-bookworm-slim\nUSER root\nCMD [\"node\", \"server.js\"]\n")
        #expect(rules(root) == ["FinalStageRunsAsRoot"])
        #expect(root.findings.first?.line == 2)
        // The USER of the stage a final stage is built FROM counts.
        let inherited = try lint("FROM node:20.11.1-bookworm-slim AS base\nUSER node\nFROM base\nCMD [\"node\", \"a.js\"]\n")
        #expect(inherited.findings.isEmpty)
    }

    @Test func aptMistakes() throws {
        let result = try lint("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl\nUSER nobody\nCMD [\"curl\"]\n")
        #expect(Set(rules(result)) == ["AptGetNoInstallRecommends", "AptGetListsNotCleaned"])
        #expect(result.findings.allSatisfy { $0.line == 2 })
        let cached = try lint("""
            FROM debian:bookworm-slim
            RUN --mount=type=cache,target=/var/lib/apt/lists apt-get update && apt-get install -y --no-install-recommends curl
            USER nobody
            CMD ["curl"]
            """)
        #expect(cached.findings.isEmpty)
    }

    @Test func buildToolsInSingleStage() throws {
        let node = try lint("""
            FROM node:20-bookworm
            WORKDIR /app
            COPY package*.json ./
            RUN npm ci
            COPY . .
            RUN npm run build
            USER node
            CMD ["node", "dist/index.js"]
            """)
        #expect(rules(node) == ["BuildToolsInFinalImage"])
        #expect(node.findings.first?.line == 6)
        let gcc = try lint("""
            FROM python:3.12-slim
            RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev && rm -rf /var/lib/apt/lists/*
            USER nobody
            CMD ["python"]
            """)
        #expect(rules(gcc) == ["BuildToolsInFinalImage"])
    }

    @Test func secretsInArgOrEnv() throws {
        let result = try lint("""
            FROM node:20.11.1-bookworm-slim
            ARG NPM_TOKEN
            ENV DATABASE_PASSWORD=hunter2 PUBLIC_KEY=abc API_URL=x
            USER node
            CMD ["node", "a.js"]
            """)
        #expect(rules(result) == ["SecretsUsedInArgOrEnv", "SecretsUsedInArgOrEnv"])
        #expect(result.findings.map(\.line) == [2, 3])
        #expect(result.findings[1].message == "Do not use ARG or ENV instructions for sensitive data (ENV \"DATABASE_PASSWORD\")")
    }
}

@Suite struct BuildKitCheckTests {
    @Test func reportsEachCheckWithItsLine() throws {
        let text = """
            ARG BASE
            ARG TAG
            FROM --platform=linux/amd64 alpine:3.19 AS Builder
            from alpine:3.19 as second
            FROM alpine:3.19 as third
            FROM alpine:3.19 AS builder
            FROM alpine:3.19 AS scratch
            FROM $UNDECLARED
            FROM busybox:${TAG}
            FROM --platform=$TARGETPLATFORM alpine:3.19 AS last
            MAINTAINER someone@example.com
            WORKDIR app
            COPY $NOPE /x
            ENV A 1
            LABEL b 2
            EXPOSE 80/TCP 127.0.0.1:8080:80
            CMD echo one
            CMD ["echo", "two"]
            ENTRYPOINT echo hi
            RUN echo a && \\

            echo b
            USER nobody
            """
        let result = try lint(text)
        let found = Set(result.findings.map { "\($0.line) \($0.rule)" })
        let expected: Set<String> = [
            "3 StageNameCasing", "3 FromPlatformFlagConstDisallowed", "4 ConsistentInstructionCasing",
            "5 FromAsCasing", "6 DuplicateStageName", "7 ReservedStageName", "8 UndefinedArgInFrom",
            "8 InvalidDefaultArgInFrom", "9 InvalidDefaultArgInFrom", "10 RedundantTargetPlatform",
            "11 MaintainerDeprecated", "12 WorkdirRelativePath", "13 UndefinedVar", "14 LegacyKeyValueFormat",
            "15 LegacyKeyValueFormat", "16 ExposeProtoCasing", "16 ExposeInvalidFormat", "17 JSONArgsRecommended",
            "17 MultipleInstructionsDisallowed", "19 JSONArgsRecommended", "22 NoEmptyContinuation",
            "3 LatestBaseImage",
        ]
        #expect(found.subtracting(["1 LatestBaseImage"]).isSuperset(of: expected.subtracting(["3 LatestBaseImage"])),
                "\(result.renderText())")
        let unexpected = found.subtracting(expected)
        #expect(unexpected.isEmpty, "unexpected: \(unexpected.sorted())")
        let message = try #require(result.findings.first { $0.rule == "UndefinedVar" }).message
        #expect(message == "Usage of undefined variable '$NOPE'")
        #expect(!result.hasErrors)
    }

    @Test func checkDirectiveSkipsAndEscalates() throws {
        let text = "# check=skip=JSONArgsRecommended,FinalStageRunsAsRoot;error=true\nFROM alpine:3.19\nCMD echo hi\nENV a b\n"
        let result = try lint(text)
        #expect(rules(result) == ["LegacyKeyValueFormat"])
        #expect(result.findings.first?.level == .error)
        #expect(result.hasErrors)
        let all = try lint("# check=skip=all\nFROM alpine\nCMD echo hi\n")
        #expect(all.findings.isEmpty)
    }

    @Test func undefinedVarOnScratchKnowsTheDefaultPath() throws {
        let result = try lint("FROM scratch\nENV PATH=/app:$PATH\nCOPY $SRC /app\nUSER 65532\nCMD [\"/app/x\"]\n")
        #expect(result.findings.map { "\($0.line) \($0.rule)" } == ["3 UndefinedVar"])
    }

    @Test func invalidInstructionsAreErrors() throws {
        let result = try lint("FROM alpine:3.19\nCOPY --frm=x a b\nUSER nobody\nCMD [\"true\"]\n")
        #expect(result.findings.map { "\($0.line) \($0.rule) \($0.level)" } == ["2 InvalidInstruction error"])
        #expect(result.hasErrors)
    }

    @Test func copyIgnoredFileIsExperimental() throws {
        let text = "FROM alpine:3.19\nCOPY .env /app/.env\nCOPY main.go /app/\nUSER nobody\nCMD [\"/app\"]\n"
        #expect(try lint(text).findings.isEmpty)
        let enabled = try lint("# check=experimental=CopyIgnoredFile\n" + text)
        #expect(enabled.findings.map { "\($0.line) \($0.rule)" } == ["3 CopyIgnoredFile"])
        #expect(enabled.findings.first?.message == "Attempting to Copy file \".env\" that is excluded by .dockerignore")
    }

    @Test func inlineCheckSkipAppliesToOneInstruction() throws {
        let text = """
            FROM alpine:3.19
            USER nobody
            # check=skip=JSONArgsRecommended
            ENTRYPOINT echo one
            CMD echo two
            """
        let result = try lint(text)
        #expect(result.findings.map { "\($0.line) \($0.rule)" } == ["5 JSONArgsRecommended"])
    }

    @Test func heredocsAndMountsDoNotTripTheLinter() throws {
        let text = """
            # syntax=docker/dockerfile:1
            FROM alpine:3.19
            RUN --mount=type=secret,id=npm_token <<EOF
            set -e
            echo "$(cat /run/secrets/npm_token)" > /dev/null
            EOF
            COPY <<config.txt /etc/app/config.txt
            key=$VALUE
            config.txt
            USER nobody
            CMD ["true"]
            """
        let result = try lint(text)
        #expect(result.findings.isEmpty, "\(result.renderText())")
    }

    @Test func outputsInEveryFormat() throws {
        let result = try lint("FROM alpine:3.19\nCMD echo hi\n")
        let text = result.renderText()
        #expect(text.contains("Dockerfile:2 JSONArgsRecommended: JSON arguments recommended for CMD"))
        #expect(text.contains("Dockerfile:1 FinalStageRunsAsRoot:"))
        let json = try JSONSerialization.jsonObject(with: Data(try result.renderJSON().utf8)) as? [String: Any]
        let findings = try #require(json?["findings"] as? [[String: Any]])
        #expect(findings.count == 2)
        #expect(findings.last?["line"] as? Int == 2)
        let sarif = try JSONSerialization.jsonObject(with: Data(try result.renderSARIF().utf8)) as? [String: Any]
        #expect(sarif?["version"] as? String == "2.1.0")
        let runs = try #require(sarif?["runs"] as? [[String: Any]])
        let results = try #require(runs.first?["results"] as? [[String: Any]])
        #expect(results.map { $0["ruleId"] as? String } == ["FinalStageRunsAsRoot", "JSONArgsRecommended"])
        let location = try #require((results.last?["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
        #expect((location["region"] as? [String: Any])?["startLine"] as? Int == 2)
    }
}

/// BuildKit's two platform checks (issue #14).
@Suite struct PlatformCheckTests {
    @Test("FromPlatformFlagConstDisallowed: a constant platform, unless the stage's name holds its OS or CPU (normalised)")
    func constPlatform() throws {
        let text = """
            FROM --platform=linux/amd64 alpine AS base
            FROM --platform=linux/amd64 alpine AS build_amd64
            FROM --platform=linux/aarch64 alpine AS build-arm64
            FROM --platform=linux/arm64 alpine AS linux-tools
            FROM --platform=linux/arm/v7 alpine
            FROM --platform=$BUILDPLATFORM alpine AS cross
            FROM --platform=${TARGETPLATFORM} alpine AS redundant
            FROM build_${TARGETARCH} AS final

            """
        let found = try lint(text).findings.filter { $0.rule.contains("Platform") }.map { "\($0.line) \($0.rule): \($0.message)" }
        #expect(found == [
            "1 FromPlatformFlagConstDisallowed: FROM --platform flag should not use constant value \"linux/amd64\"",
            "5 FromPlatformFlagConstDisallowed: FROM --platform flag should not use constant value \"linux/arm/v7\"",
            "7 RedundantTargetPlatform: Setting platform to predefined ${TARGETPLATFORM} in FROM is redundant as this is the default behavior",
        ])
    }

    @Test("InvalidBaseImagePlatform, found by the build: BuildKit's rule under the Dockerfile's # check= rules")
    func invalidBaseImagePlatform() throws {
        let message = "Base image bb:arm64 was pulled with platform \"linux/arm64\", expected \"linux/amd64\" for current build"
        func finding(_ text: String, line: Int = 2) throws -> LintFinding? {
            Linter.buildFinding(.invalidBaseImagePlatform, in: try Dockerfile.parse(text, fileName: "Dockerfile"), line: line, message: message)
        }
        let plain = try #require(try finding("# a comment\nFROM bb:arm64\n"))
        #expect(plain.level == .warning && plain.rule == "InvalidBaseImagePlatform" && plain.line == 2)
        #expect(plain.url == "https://docs.docker.com/go/dockerfile/rule/invalid-base-image-platform/")
        #expect(try finding("# check=skip=InvalidBaseImagePlatform\nFROM bb:arm64\n") == nil)
        #expect(try finding("FROM scratch\n# check=skip=InvalidBaseImagePlatform\nFROM bb:arm64\n", line: 3) == nil)
        #expect(try finding("# check=error=true\nFROM bb:arm64\n")?.level == .error)
        #expect(LintRule.all.contains(.invalidBaseImagePlatform))
    }
}

@Suite struct ArticleFixturesTests {
    /// Every fixture is the article's own text (from the seed in ../shared/seed).
    @Test(.requires(.shared("seed")))
    func fixturesComeFromTheArticle() throws {
        let seed = try #require(Host.shared("seed"))
        let files = try FileManager.default.contentsOfDirectory(atPath: seed)
        #expect(files.contains { $0.hasSuffix(".txt") }, "no article (.txt) in \(seed)")
        let seedDir = URL(fileURLWithPath: seed)
        var article = ""
        for file in files where file.hasSuffix(".txt") {
            article += (try? String(contentsOf: seedDir.appendingPathComponent(file), encoding: .utf8)) ?? ""
        }
        for (name, text) in [("rust", ArticleDockerfiles.rust)] + ArticleDockerfiles.fixed.filter({ $0.0 != "good-practices" }) {
            #expect(article.contains(text), "\(name) is not verbatim in the article")
        }
    }
}
