/// How serious a finding is. Errors make `slipway lint` exit non-zero.
public enum LintLevel: String, Sendable, Codable, Comparable, CaseIterable {
    case info, warning, error

    var rank: Int {
        switch self {
        case .info: return 0
        case .warning: return 1
        case .error: return 2
        }
    }

    public static func < (a: LintLevel, b: LintLevel) -> Bool { a.rank < b.rank }
}

/// A lint rule: BuildKit's build checks under their BuildKit names, plus Slipway's rules for
/// the mistakes the multi-stage article lists.
public struct LintRule: Sendable, Hashable, Codable {
    public var name: String
    public var description: String
    public var level: LintLevel
    /// True for BuildKit's own checks (affected by `# check=error=true`).
    public var isBuildKit: Bool
    /// Off unless enabled with `# check=experimental=NAME` (BuildKit's experimental checks).
    public var isExperimental: Bool
    public var url: String

    init(_ name: String, _ description: String, level: LintLevel = .warning, buildKit: Bool = true,
         experimental: Bool = false) {
        self.name = name
        self.description = description
        self.level = level
        self.isBuildKit = buildKit
        self.isExperimental = experimental
        if buildKit {
            let slug = name.reduce(into: "") { out, c in
                if c.isUppercase, !out.isEmpty { out.append("-") }
                out.append(Character(c.lowercased()))
            }
            url = "https://docs.docker.com/go/dockerfile/rule/\(slug)/"
        } else {
            url = "https://github.com/slipway/slipway/blob/main/docs/lint.md#\(name.lowercased())"
        }
    }
}

extension LintRule {
    // BuildKit (frontend/dockerfile/linter/ruleset.go).
    public static let stageNameCasing = LintRule("StageNameCasing", "Stage names should be lowercase")
    public static let fromAsCasing = LintRule("FromAsCasing", "The 'as' keyword should match the case of the 'from' keyword")
    public static let noEmptyContinuation = LintRule("NoEmptyContinuation", "Empty continuation lines will become errors in a future release")
    public static let consistentInstructionCasing = LintRule("ConsistentInstructionCasing", "All commands within the Dockerfile should use the same casing (either upper or lower)")
    public static let duplicateStageName = LintRule("DuplicateStageName", "Stage names should be unique")
    public static let reservedStageName = LintRule("ReservedStageName", "Reserved words should not be used as stage names")
    public static let jsonArgsRecommended = LintRule("JSONArgsRecommended", "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals")
    public static let maintainerDeprecated = LintRule("MaintainerDeprecated", "The MAINTAINER instruction is deprecated, use a label instead to define an image author")
    public static let undefinedArgInFrom = LintRule("UndefinedArgInFrom", "FROM command must use declared ARGs")
    public static let workdirRelativePath = LintRule("WorkdirRelativePath", "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes")
    public static let undefinedVar = LintRule("UndefinedVar", "Variables should be defined before their use")
    public static let multipleInstructionsDisallowed = LintRule("MultipleInstructionsDisallowed", "Multiple instructions of the same type should not be used in the same stage")
    public static let legacyKeyValueFormat = LintRule("LegacyKeyValueFormat", "Legacy key/value format with whitespace separator should not be used")
    public static let redundantTargetPlatform = LintRule("RedundantTargetPlatform", "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior")
    public static let secretsUsedInArgOrEnv = LintRule("SecretsUsedInArgOrEnv", "Sensitive data should not be used in the ARG or ENV commands")
    public static let invalidDefaultArgInFrom = LintRule("InvalidDefaultArgInFrom", "Default value for global ARG results in an empty or invalid base image name")
    public static let fromPlatformFlagConstDisallowed = LintRule("FromPlatformFlagConstDisallowed", "FROM --platform flag should not use a constant value")
    /// Found by the build, not by `lint` (it needs the base image's config): `Linter.buildFinding`.
    public static let invalidBaseImagePlatform = LintRule("InvalidBaseImagePlatform", "Base image platform does not match expected target platform")
    public static let copyIgnoredFile = LintRule("CopyIgnoredFile", "Attempting to Copy file that is excluded by .dockerignore", experimental: true)
    public static let exposeProtoCasing = LintRule("ExposeProtoCasing", "Protocol in EXPOSE instruction should be lowercase")
    public static let exposeInvalidFormat = LintRule("ExposeInvalidFormat", "IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release")

    // Slipway: instructions BuildKit would refuse to build (bad flags, wrong argument counts).
    public static let invalidInstruction = LintRule("InvalidInstruction", "The instruction is invalid and the build would fail", level: .error, buildKit: false)

    // Slipway: the article's common mistakes.
    public static let copyBeforeDependencyInstall = LintRule("CopyAllBeforeDependencyInstall", "Copying the whole context before installing dependencies re-runs the install on every source change", buildKit: false)
    public static let latestBaseImage = LintRule("LatestBaseImage", "Base images should be pinned to a version tag or digest, not :latest or untagged", buildKit: false)
    public static let finalStageRunsAsRoot = LintRule("FinalStageRunsAsRoot", "The final stage should switch to a non-root USER", buildKit: false)
    public static let copyAllWithoutDockerignore = LintRule("CopyAllWithoutDockerignore", "Copying the whole context without a .dockerignore sends and stores everything (node_modules, .git, .env)", buildKit: false)
    public static let aptNoInstallRecommends = LintRule("AptGetNoInstallRecommends", "apt-get install should use --no-install-recommends", level: .info, buildKit: false)
    public static let aptListsNotCleaned = LintRule("AptGetListsNotCleaned", "apt-get lists should be removed in the same RUN (rm -rf /var/lib/apt/lists/*)", buildKit: false)
    public static let buildToolsInFinalStage = LintRule("BuildToolsInFinalImage", "A single-stage build ships its compilers and build dependencies; build in a builder stage and copy the artifacts", buildKit: false)

    // Slipway: hadolint's common rules (its DL numbers in docs/lint.md), and ShellCheck on RUN.
    // Version pinning is opt-in (`# check=experimental=AptGetVersionPinned,...`): most images,
    // the article's among them, rely on their base's release for repeatability.
    public static let aptVersionPinned = LintRule("AptGetVersionPinned", "Pin versions in apt-get install (hadolint DL3008)", level: .info, buildKit: false, experimental: true)
    public static let apkVersionPinned = LintRule("ApkVersionPinned", "Pin versions in apk add (hadolint DL3018)", level: .info, buildKit: false, experimental: true)
    public static let apkNoCache = LintRule("ApkNoCache", "Use apk add --no-cache instead of caching the index in the layer (hadolint DL3019)", buildKit: false)
    public static let pipVersionPinned = LintRule("PipVersionPinned", "Pin versions in pip install (hadolint DL3013)", level: .info, buildKit: false, experimental: true)
    public static let npmVersionPinned = LintRule("NpmVersionPinned", "Pin versions in npm install (hadolint DL3016)", level: .info, buildKit: false, experimental: true)
    public static let cdInRun = LintRule("UseWorkdir", "Use WORKDIR to switch directories instead of cd in RUN (hadolint DL3003)", buildKit: false)
    public static let sudoInRun = LintRule("NoSudo", "Do not use sudo in RUN: it is not needed as root and breaks as another user (hadolint DL3004)", level: .error, buildKit: false)
    public static let addForLocalFiles = LintRule("CopyInsteadOfAdd", "Use COPY for local files and directories; ADD is for archives and URLs (hadolint DL3020)", buildKit: false)
    public static let pipefail = LintRule("PipefailInRun", "Set -o pipefail before a RUN with a pipe, or a failure before the last command is hidden (hadolint DL4006)", buildKit: false)
    public static let shellCheck = LintRule("ShellCheck", "ShellCheck finding in a RUN script (hadolint runs ShellCheck too)", buildKit: false)
    public static let copyFromOwnStage = LintRule("CopyFromOwnStage", "COPY --from cannot name the stage it is in: the build fails", level: .error, buildKit: false)

    public static let all: [LintRule] = [
        .stageNameCasing, .fromAsCasing, .noEmptyContinuation, .consistentInstructionCasing, .duplicateStageName,
        .reservedStageName, .jsonArgsRecommended, .maintainerDeprecated, .undefinedArgInFrom, .workdirRelativePath,
        .undefinedVar, .multipleInstructionsDisallowed, .legacyKeyValueFormat, .redundantTargetPlatform,
        .secretsUsedInArgOrEnv, .invalidDefaultArgInFrom, .fromPlatformFlagConstDisallowed, .invalidBaseImagePlatform, .copyIgnoredFile,
        .exposeProtoCasing, .exposeInvalidFormat,
        .invalidInstruction, .copyBeforeDependencyInstall, .latestBaseImage, .finalStageRunsAsRoot, .copyAllWithoutDockerignore,
        .aptNoInstallRecommends, .aptListsNotCleaned, .buildToolsInFinalStage,
        .aptVersionPinned, .apkVersionPinned, .apkNoCache, .pipVersionPinned, .npmVersionPinned, .cdInRun, .sudoInRun,
        .addForLocalFiles, .pipefail, .shellCheck, .copyFromOwnStage,
    ]
}

/// One finding.
public struct LintFinding: Sendable, Hashable, Codable {
    public var rule: String
    public var level: LintLevel
    public var message: String
    public var file: String
    public var line: Int
    public var endLine: Int
    public var url: String
}
