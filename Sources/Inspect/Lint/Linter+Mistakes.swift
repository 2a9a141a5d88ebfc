import Dockerfile
import Foundation

/// The multi-stage article's "common mistakes", as rules.
extension LintContext {
    mutating func checkArticleMistakes() {
        let shipped = shippedStages
        for stage in stages {
            checkBaseTag(stage)
            checkCopyOrder(stage)
            for node in stage.nodes {
                if isCopyAll(node), options.dockerignore == nil {
                    report(.copyAllWithoutDockerignore, node,
                           "\(node.keyword.uppercased()) copies the whole build context and there is no .dockerignore: "
                           + "add one listing node_modules, .git, .env, build outputs and local secrets")
                }
                if node.command == "copy", let from = flagValue(node, "from"), !isStageReference(from) {
                    checkImageTag(from, node, what: "COPY --from image")
                }
                guard node.command == "run" else { continue }
                let text = Self.shellText(node)
                if Self.containsAny(text, ["apt-get install", "apt install", "apt-get -y install", "apt-get -yq install"]),
                   !Self.containsAny(text, ["--no-install-recommends", "Install-Recommends=false", "Install-Recommends=\"false\""]) {
                    report(.aptNoInstallRecommends, node,
                           "apt-get install without --no-install-recommends pulls in recommended packages the image does not need")
                }
                if shipped.contains(stage.index), Self.containsAny(text, ["apt-get update", "apt update"]),
                   !text.contains("/var/lib/apt/lists"),
                   !node.flags.contains(where: { $0.contains("type=cache") && $0.contains("/var/lib/apt") }) {
                    report(.aptListsNotCleaned, node,
                           "apt-get update leaves its package lists in the layer: end the same RUN with "
                           + "'&& rm -rf /var/lib/apt/lists/*'")
                }
            }
        }
        checkFinalUser()
        checkSingleStageBuildTools()
        checkCopyIgnoredFiles()
    }

    /// BuildKit's experimental CopyIgnoredFile: a local COPY/ADD source the .dockerignore excludes.
    mutating func checkCopyIgnoredFiles() {
        guard let ignore = options.dockerignore, let matcher = try? IgnoreMatcher(ignoreFile: ignore) else { return }
        for stage in stages {
            for node in stage.nodes where (node.command == "copy" || node.command == "add") && flagValue(node, "from") == nil {
                for source in node.values.dropLast() where !source.hasPrefix("<<") && !source.contains("://") {
                    if !matcher.includes(source) {
                        let verb = node.command == "copy" ? "Copy" : "Add"
                        report(.copyIgnoredFile, node, "Attempting to \(verb) file \"\(source)\" that is excluded by .dockerignore")
                    }
                }
            }
        }
    }

    // MARK: helpers

    /// The shell text of a RUN: its arguments and heredoc bodies.
    static func shellText(_ node: Node) -> String {
        let text = (node.values + node.heredocs.map(\.content)).joined(separator: " ")
        return text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).joined(separator: " ")
    }

    static func containsAny(_ text: String, _ needles: [String]) -> Bool {
        needles.contains { text.contains($0) }
    }

    func flagValue(_ node: Node, _ name: String) -> String? {
        for flag in node.flags where flag.hasPrefix("--\(name)=") { return String(flag.dropFirst(name.count + 3)) }
        return nil
    }

    func isStageReference(_ name: String) -> Bool {
        Int(name) != nil || firstStageNamed[name.lowercased()] != nil
    }

    /// `COPY . .`, `ADD . /app`, `COPY ./ ./`: the whole context from the local source.
    func isCopyAll(_ node: Node) -> Bool {
        guard node.command == "copy" || node.command == "add", flagValue(node, "from") == nil else { return false }
        let sources = node.values.dropLast().filter { !$0.hasPrefix("<<") }
        return sources.contains { $0 == "." || $0 == "./" || $0 == "*" }
    }

    /// What a RUN installs dependencies with, and the manifest files to copy before it.
    static func dependencyInstall(_ text: String) -> (command: String, manifests: String)? {
        let installs: [(String, String)] = [
            ("npm ci", "package.json package-lock.json"), ("npm install", "package.json package-lock.json"),
            ("npm i ", "package.json package-lock.json"), ("yarn install", "package.json yarn.lock"),
            ("pnpm install", "package.json pnpm-lock.yaml"), ("pip install -r", "requirements.txt"),
            ("pip3 install -r", "requirements.txt"), ("poetry install", "pyproject.toml poetry.lock"),
            ("pipenv install", "Pipfile Pipfile.lock"), ("go mod download", "go.mod go.sum"),
            ("cargo fetch", "Cargo.toml Cargo.lock"), ("bundle install", "Gemfile Gemfile.lock"),
            ("composer install", "composer.json composer.lock"), ("mvn dependency:", "pom.xml"),
            ("gradle dependencies", "build.gradle settings.gradle"), ("gradlew dependencies", "gradlew build.gradle settings.gradle"),
            ("dotnet restore", "*.csproj"),
        ]
        for (command, manifests) in installs {
            guard let range = text.range(of: command) else { continue }
            let after = text[range.upperBound...].prefix(12)
            if command.hasPrefix("npm"), after.contains(" -g") || after.contains("--global") { continue }
            return (command.trimmingCharacters(in: .whitespaces), manifests)
        }
        return nil
    }

    // MARK: rules

    mutating func checkCopyOrder(_ stage: LintStage) {
        for (position, node) in stage.nodes.enumerated() where isCopyAll(node) {
            for later in stage.nodes[(position + 1)...] where later.command == "run" {
                guard let install = Self.dependencyInstall(Self.shellText(later)) else { continue }
                report(.copyBeforeDependencyInstall, node,
                       "\(node.keyword.uppercased()) \(node.values.joined(separator: " ")) comes before '\(install.command)' "
                       + "(line \(later.startLine)), so every source change re-runs the install: COPY \(install.manifests) "
                       + "first, run '\(install.command)', then COPY the rest")
                break
            }
        }
    }

    mutating func checkBaseTag(_ stage: LintStage) {
        guard stage.parent == nil, stage.baseName.lowercased() != "scratch" else { return }
        checkImageTag(stage.baseName, stage.from, what: "Base image")
    }

    mutating func checkImageTag(_ raw: String, _ node: Node, what: String) {
        var defaults: [String: String] = [:]
        for arg in globalArgs { defaults[arg.name] = arg.value ?? "" }
        guard let reference = try? parsed.lexer.processWord(raw, env: Lookup(values: defaults)),
              Self.isValidReference(reference), !reference.contains("$"), !reference.contains("@") else { return }
        let last = reference.split(separator: "/").last ?? ""
        let tag = last.split(separator: ":", maxSplits: 1).dropFirst().first.map(String.init)
        if tag == "latest" {
            report(.latestBaseImage, node,
                   "\(what) '\(reference)' uses :latest, which changes under you: pin a version tag or digest")
        } else if tag == nil {
            report(.latestBaseImage, node,
                   "\(what) '\(reference)' has no tag and means :latest: pin a version tag or digest")
        }
    }

    mutating func checkFinalUser() {
        guard let final = finalStage else { return }
        var current: Int? = final
        while let index = current {
            let stage = stages[index]
            if let user = stage.nodes.last(where: { $0.command == "user" }) {
                let name = (user.values.first ?? "").split(separator: ":").first.map(String.init) ?? ""
                if name == "root" || name == "0" {
                    report(.finalStageRunsAsRoot, user,
                           "The final stage switches to USER \(user.values.first ?? "") (root): run as a dedicated non-root user")
                }
                return
            }
            if stage.parent == nil {
                // An empty base has no users to switch to; a static binary on scratch is the usual case.
                if stage.baseName.lowercased() == "scratch" { return }
                break
            }
            current = stage.parent
        }
        let stage = stages[final]
        report(.finalStageRunsAsRoot, stage.from,
               "The final stage runs as root: add a user (RUN useradd -r appuser) and 'USER appuser' before CMD")
    }

    static let sdkImages: Set<String> = ["golang", "rust", "maven", "gradle", "gcc", "buildpack-deps", "openjdk"]
    static let buildCommands = ["go build", "cargo build", "npm run build", "yarn build", "pnpm build", "tsc ", "mvn package",
                                "mvn install", "mvn verify", "gradle build", "gradlew build", "bootJar", "javac ", "make ",
                                "gcc ", "g++ ", "dotnet publish", "dotnet build", "python setup.py build"]
    static let buildToolPackages: Set<String> = ["gcc", "g++", "make", "build-essential", "build-base", "cmake", "clang",
                                                 "libc6-dev", "musl-dev", "python3-dev", "python-dev", "autoconf", "automake"]

    mutating func checkSingleStageBuildTools() {
        guard stages.count == 1, let stage = stages.first else { return }
        let base = stage.baseName.lowercased()
        let repository = String(base.split(separator: "/").last?.split(separator: ":").first ?? "")
        let tag = String(base.split(separator: "/").last?.split(separator: ":").dropFirst().first ?? "")
        let sdkBase = Self.sdkImages.contains(repository)
            || (repository == "eclipse-temurin" && tag.contains("jdk"))
            || ((repository == "node" || repository == "python") && !tag.contains("slim") && !tag.contains("alpine"))
        for node in stage.nodes where node.command == "run" {
            let text = Self.shellText(node)
            let words = Set(text.split(separator: " ").map(String.init))
            let installsTools = Self.containsAny(text, ["apt-get install", "apt install", "apk add", "yum install", "dnf install"])
                && (!words.isDisjoint(with: Self.buildToolPackages) || words.contains { $0.hasSuffix("-dev") || $0.hasSuffix("-devel") })
            let builds = Self.buildCommands.first { text.contains($0) || text.hasSuffix($0.trimmingCharacters(in: .whitespaces)) }
            if installsTools || (sdkBase && builds != nil) {
                let why = installsTools ? "this RUN installs compilers/headers" :
                    "'\(builds?.trimmingCharacters(in: .whitespaces) ?? "")' runs on the SDK image '\(stage.baseName)'"
                report(.buildToolsInFinalStage, node,
                       "Single-stage build: \(why), and all of it ships in the final image. Build in a stage "
                       + "('FROM \(stage.baseName) AS builder') and COPY --from=builder only the artifacts into a slim "
                       + "runtime stage (see `slipway analyze` for the size it would save)")
                return
            }
        }
    }
}
