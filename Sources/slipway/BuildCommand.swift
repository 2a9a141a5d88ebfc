import ArgumentParser
import Build
import Dockerfile
import Foundation
import Inspect
import OCI
import Registry

/// `slipway build`: docker buildx's flags, run by the Build engine without a daemon.
struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build an image from a Dockerfile (multi-stage, cached, parallel stages).")

    @OptionGroup var store: StoreOptions
    @OptionGroup var registry: RegistryOptions
    @OptionGroup var cacheOptions: BuildCacheOptions

    @Option(name: [.short, .customLong("tag")], help: ArgumentHelp("Name and tag for the image (repeatable).", valueName: "name:tag"))
    var tags: [String] = []

    @Option(name: [.short, .customLong("file")], help: ArgumentHelp("Dockerfile to use; - reads it from stdin (default: CONTEXT/Dockerfile).", valueName: "file"))
    var file: String?

    @Option(help: "Stage to build (default: the last one).")
    var target: String?

    @Option(help: ArgumentHelp("Platform to build for, os/arch[/variant] (default: this machine's). Bases are resolved for it, the platform ARGs (TARGETPLATFORM, TARGETARCH, …) follow it, and RUN steps of another CPU run through QEMU registered in binfmt_misc.", valueName: "platform"))
    var platform: String?

    @Option(name: .customLong("build-arg"), help: ArgumentHelp("Build-time variable NAME=VALUE (NAME alone takes it from the environment).", valueName: "name=value"))
    var buildArgs: [String] = []

    @Flag(name: .customLong("no-cache"), help: "Do not use the build cache.")
    var noCache = false

    @Flag(help: "Pull base images from their registry even when the store has them.")
    var pull = false

    @Option(help: "Progress output: auto, tty, plain, json, rawjson (BuildKit's SolveStatus lines) or quiet (default: $BUILDKIT_PROGRESS, else auto).")
    var progress: String = ProcessInfo.processInfo.environment["BUILDKIT_PROGRESS"].flatMap { $0.isEmpty ? nil : $0 } ?? "auto"

    @Flag(name: [.short, .customLong("quiet")], help: "Print only the image ID (on success).")
    var quiet = false

    @Flag(help: "Push every tag (-t, -o name=) to its registry after the build (as -o type=image,push=true).")
    var push = false

    @Flag(help: "After the build, load the image into Docker: its docker-archive piped into `docker load` (needs the docker CLI on PATH).")
    var load = false

    @Option(help: ArgumentHelp("Write the image ID to this file (removed when the build starts, written only when it succeeds).", valueName: "file"))
    var iidfile: String?

    @Option(name: .customLong("metadata-file"), help: ArgumentHelp("Write the build result as JSON (buildx's keys: containerimage.digest, containerimage.config.digest, image.name, …, plus Slipway's steps).", valueName: "file"))
    var metadataFile: String?

    @Option(name: .customLong("label"), help: ArgumentHelp("Set a label on the image (repeatable).", valueName: "key=value"))
    var labels: [String] = []

    @Option(help: "Network for RUN steps: host (default) or none.")
    var network: String = "host"

    @Option(help: "Stages built at the same time (default: number of CPU cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "OCI runtime for RUN steps: runc or crun.")
    var runtime: String = "runc"

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("type=image|oci|docker|local|tar[,dest=PATH]", valueName: "spec"))
    var output: String?

    @Option(name: .customLong("secret"), help: ArgumentHelp("Secret for RUN --mount=type=secret: id=ID,src=FILE or id=ID,env=VAR (repeatable).", valueName: "spec"))
    var secrets: [String] = []

    @Option(name: .customLong("ssh"), help: ArgumentHelp("SSH agent socket for RUN --mount=type=ssh: default or ID=PATH (repeatable).", valueName: "spec"))
    var ssh: [String] = []

    @Option(name: .customLong("allow"), help: ArgumentHelp("Grant an entitlement: security.insecure (for RUN --security=insecure).", valueName: "entitlement"))
    var allow: [String] = []

    @Option(name: .customLong("build-context"), help: ArgumentHelp("Named context: NAME=DIR, NAME=docker-image://REF or NAME=oci-layout://PATH (repeatable).", valueName: "name=value"))
    var buildContexts: [String] = []

    @Flag(name: .customLong("add-ca-bundle"), help: "Mount this machine's CA bundle (/etc/ssl/certs/ca-certificates.crt) over the image's in every RUN step (off by default, as in BuildKit; part of each RUN's cache key).")
    var addCABundle = false

    @Flag(help: "After the build, print a table of every step: cached (from the local cache or an imported one) or ran, its time, CPU time, layer size, bytes written, and why it missed the cache.")
    var explain = false

    @Option(help: ArgumentHelp("Write an HTML timeline of the build (stages and steps, the critical path marked).", valueName: "file.html"))
    var report: String?

    @Flag(help: "Run the build checks (as slipway lint) and exit without building (buildx's --call=check).")
    var check = false

    @Option(help: ArgumentHelp("What to do: build (default) or check (run the build checks only).", valueName: "method"))
    var call: String = "build"

    @Argument(help: "The build context directory.")
    var context: String

    func run() async throws {
        do {
            try await build()
        } catch let e as ExitCode {
            throw e
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }

    func build() async throws {
        let trace = PhaseTrace()
        defer { trace.report() }
        // Validate every flag before touching anything.
        let args = try BuildFlags.buildArgs(buildArgs)
        let targetPlatform = try platform.map { try BuildFlags.platform($0) }
        let labelValues = try BuildFlags.labels(labels)
        let out = try output.map { try BuildFlags.output($0) } ?? OutputSpec(type: .image, dest: nil)
        let tags = self.tags + out.names
        let pushing = push || out.push
        if pushing && tags.isEmpty {
            throw ValidationError("--push needs a name to push to: -t REGISTRY/REPO:TAG or -o type=image,name=REGISTRY/REPO:TAG,push=true")
        }
        // Before anything is built: --load without docker can only fail at the end.
        let docker = load ? try DockerLoad.locate() : nil
        if load && (out.type == .local || out.type == .tar) {
            throw ValidationError("--load loads an image into Docker; -o type=\(out.type.rawValue) writes a root filesystem, not an image: drop one of them")
        }
        // A stale ID must not outlive a failed build (a CI step would push the old image).
        if let iidfile { BuildOutputs.removeStale(iidfile) }
        if let metadataFile { BuildOutputs.removeStale(metadataFile) }
        if out.dest == "-" && isatty(1) == 1 {
            throw ValidationError("refusing to write the \(out.type.rawValue) output to a terminal: redirect standard output (> FILE) or give dest=FILE")
        }
        guard let mode = quiet ? .quiet : ProgressMode(rawValue: progress) else {
            throw ValidationError("invalid --progress \"\(progress)\": use auto, tty, plain, json, rawjson or quiet")
        }
        // Text lines for people: never in quiet mode, nor among the JSON lines of json/rawjson.
        let textProgress = mode == .tty || mode == .plain || mode == .auto
        guard let net = NetworkMode(rawValue: network) else {
            throw ValidationError("invalid --network \"\(network)\": use host or none")
        }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        for t in tags {
            do { _ = try ImageReference(parsing: t) } catch { throw ValidationError("invalid tag \"\(t)\": \(error)") }
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: context, isDirectory: &isDir), isDir.boolValue else {
            throw ValidationError("build context \"\(context)\" is not a directory")
        }
        let contextDir = URL(fileURLWithPath: context).standardizedFileURL.path

        // The Dockerfile.
        let text: String
        let fileName: String
        // Where `<Dockerfile>.dockerignore` is looked for (none for a Dockerfile from stdin).
        var dockerfilePath: String?
        if file == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            fileName = "Dockerfile"
        } else {
            let path = file ?? contextDir + "/Dockerfile"
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read Dockerfile \(path): no such file (use -f FILE)")
            }
            text = String(decoding: data, as: UTF8.self)
            fileName = (path as NSString).lastPathComponent
            dockerfilePath = path
        }
        // One parse for the checks and the build (BuildKit lints the parse it builds).
        let parsed = try Dockerfile.parse(text, fileName: fileName)
        guard call == "build" || call == "check" else {
            throw ValidationError("invalid --call \"\(call)\": use build or check (for the stage outline: slipway outline)")
        }
        let checkOnly = check || call == "check"
        let checks = DockerfileChecks.run(parsed, dockerfilePath: dockerfilePath, contextDirectory: contextDir, target: target,
                                          shellCheck: checkOnly)
        if checkOnly {
            print(checks.renderText(), terminator: "")
            print(checks.findings.isEmpty ? "Check complete, no warnings found." : "Check complete, \(checks.findings.count) warning\(checks.findings.count == 1 ? " has" : "s have") been found!")
            if !checks.findings.isEmpty { throw ExitCode.failure }
            return
        }
        if let failing = DockerfileChecks.failsBuild(checks, parsed: parsed) {
            throw ValidationError("\(failing.file):\(failing.line): \(failing.rule): \(failing.message) (the Dockerfile sets check=error=true: fix it, or skip the rule with # check=skip=\(failing.rule))")
        }
        let graph = try StageGraph(model: DockerfileModel(parsed),
                                   options: BuildOptions(target: target, buildArgs: args, buildPlatform: FrontendPlatform(OCI.Platform.host),
                                                         targetPlatform: targetPlatform.map(FrontendPlatform.init)))
        let plan = BuildPlan(graph: graph)
        trace.mark("parse")

        // Services.
        let imageStore = try store.open()
        trace.mark("open store")
        let scratch = StoreOptions.scratchDirectory(ofStore: imageStore.root)
        // Private (0700) like every store directory: it holds the mounted roots of running steps.
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let containerRuntime = try ContainerRuntime.named(runtime)
        var extensions = try BuildExtensions.fromFlags(secrets: secrets, ssh: ssh, allow: allow, storeRoot: imageStore.root,
                                                       buildArgs: args)
        extensions.namedContexts = try await NamedContext.parse(buildContexts, store: imageStore, platform: targetPlatform)
        var engineStore = StoreEngineStore(store: imageStore)
        engineStore.sourceDateEpoch = extensions.sourceDateEpoch
        let snapshotter = OverlaySnapshotter(scratchDirectory: scratch)
        // An archive on standard output (`-o -`) owns it: the result line goes to stderr.
        let reporter = out.dest == "-" ? ProgressReporter(mode: mode, stdout: .standardError) : ProgressReporter(mode: mode)
        let access = registry.access
        engineStore.alwaysPull = pull
        engineStore.pull = { ref, platform in
            await reporter.emit(.note("pulling \(ref)" + (platform.map { " for \($0)" } ?? "")))
            let reference = try ImageReference(parsing: ref)
            let result = try await ImageTransfer(access: access).pull(reference, into: imageStore, platform: platform)
            await reporter.emit(.note("pulled \(ref) (\(result.manifestDigest))"))
        }
        let engine = BuildEngine(store: engineStore, snapshotter: snapshotter,
                                 executor: RuntimeStepExecutor(executor: RunExecutor(runtime: containerRuntime, scratchDirectory: scratch)),
                                 copier: try ContextCopier(contextDirectory: contextDir, dockerfile: fileName, dockerfilePath: dockerfilePath,
                                                           memoDirectory: imageStore.root + "/context-memo"),
                                 progress: reporter)
        let writeToStore = out.type == .image || out.type == .oci || out.type == .docker || !tags.isEmpty || load
        var request = BuildRequest(plan: plan, contextDirectory: contextDir, noCache: noCache,
                                   network: net, jobs: jobs, labels: labelValues, tags: tags, writeToStore: writeToStore)
        request.extensions = extensions
        request.hostCABundle = addCABundle
        request.platformRequested = targetPlatform != nil
        // Checks the build makes (InvalidBaseImagePlatform) under the Dockerfile's # check= rules,
        // counted in the summary with the others.
        let buildChecks = BuildCheckFindings()
        request.onCheck = { [parsed] warning in
            guard let rule = LintRule.all.first(where: { $0.name == warning.rule }),
                  let finding = Linter.buildFinding(rule, in: parsed, line: warning.line, message: warning.message) else { return }
            await reporter.emit(.note("WARN: \(finding.rule): \(finding.message) (\(finding.file):\(finding.line))"))
            await buildChecks.add(finding)
            if finding.level == .error {
                throw ValidationError("\(finding.file):\(finding.line): \(finding.rule): \(finding.message) (the Dockerfile sets check=error=true: fix it, or skip the rule with # check=skip=\(finding.rule))")
            }
        }
        let caches = try cacheOptions.validated()
        let buildStart = Date(timeIntervalSinceNow: -1)
        let started = Date()
        let buildID = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let dockerfileName = dockerfilePath ?? "Dockerfile (stdin)"
        trace.mark("setup")
        let result: BuildResult
        do {
            try await cacheOptions.importCaches(caches.from, into: imageStore, access: access) { line in
                Task { await reporter.emit(.note(line)) }
            }
            // A closed progress pipe (`| head`) stops the build as a failure (cleaned up as on Ctrl-C).
            result = try await reporter.stoppingOnOutputFailure { [request] in try await engine.build(request) }
            trace.mark("build")
            try await cacheOptions.exportCaches(caches.to, from: imageStore, since: buildStart,
                                                finalLayers: Set(result.target.layers.map(\.digest)), access: access, buildID: buildID,
                                                exported: { await reporter.emit(.cacheExported($0)) },
                                                note: { await reporter.emit(.note($0)) })
        } catch {
            await reporter.close()
            if textProgress, let summary = DockerfileChecks.summary(await buildChecks.adding(to: checks)) { _ = writeStandardError(summary) }
            BuildOutputs.record(in: imageStore, id: buildID, started: started, succeeded: false, tags: tags, target: target,
                                dockerfile: dockerfileName, image: nil, steps: await reporter.stepSummaries())
            throw error
        }

        // What comes after the build (outputs, push, load, the ID and metadata files) can fail
        // too: the progress is then closed and the build recorded as failed, as for a failed step.
        do {
            let exporter = BuildExporter(store: imageStore, engineStore: engineStore, snapshotter: snapshotter)
            switch out.type {
            case .image:
                break
            case .local, .tar:
                try await exporter.exportRootfs(layers: result.target.layers, to: out.dest ?? ".", asTar: out.type == .tar)
            case .oci, .docker:
                if let w = result.written {
                    if out.tar {
                        try await exporter.exportArchive(manifestDigest: w.manifestDigest, tags: tags, to: out.dest ?? "-", docker: out.type == .docker)
                    } else {
                        try await exporter.exportLayout(manifestDigest: w.manifestDigest, tags: tags, to: out.dest ?? ".")
                    }
                }
            }
            if pushing, let w = result.written {
                // After the build, as buildx's push=true: every tag, each to its own registry.
                let transfer = ImageTransfer(access: access, progress: { line in Task { await reporter.emit(.note(line)) } })
                for tag in tags {
                    await reporter.emit(.note("pushing \(tag)"))
                    let pushed = try await transfer.push(w.manifestDigest.description, to: try ImageReference(parsing: tag), from: imageStore)
                    await reporter.emit(.note("pushed \(pushed.reference.familiar)@\(pushed.manifestDigest)"))
                }
            }
            if let docker, let w = result.written {
                await reporter.emit(.note("loading into docker (\(docker) load)"))
                let said = try await DockerLoad.load(manifestDigest: w.manifestDigest, tags: tags, exporter: exporter, docker: docker)
                await reporter.emit(.note(said.isEmpty ? "loaded into docker" : said))
            }
            if let iidfile, let w = result.written {
                try OutputFile.write(Array(w.id.description.utf8), to: iidfile, what: "the image ID")
            }
            if let metadataFile {
                let stored = try result.written.flatMap { try imageStore.image(manifestDigest: $0.manifestDigest) }
                let bytes = try BuildOutputs.metadata(written: result.written, manifestMediaType: stored?.manifestMediaType,
                                                      manifestSize: stored?.manifestSize, tags: tags,
                                                      steps: await reporter.stepSummaries(), cacheExports: await reporter.cacheExports(),
                                                      buildID: buildID)
                try OutputFile.write(bytes, to: metadataFile, what: "the build metadata")
            }
        } catch {
            await reporter.close()
            BuildOutputs.record(in: imageStore, id: buildID, started: started, succeeded: false, tags: tags, target: target,
                                dockerfile: dockerfileName, image: result.written?.id, steps: await reporter.stepSummaries())
            throw error
        }
        BuildOutputs.record(in: imageStore, id: buildID, started: started, succeeded: true, tags: tags, target: target,
                            dockerfile: dockerfileName, image: result.written?.id, steps: await reporter.stepSummaries())
        await reporter.close()
        if textProgress, let summary = DockerfileChecks.summary(await buildChecks.adding(to: checks)) { _ = writeStandardError(summary) }
        let timeline = BuildTimeline(steps: await reporter.stepSummaries(), totalSeconds: Date().timeIntervalSince(started),
                                     finalStage: plan.displayName(plan.target),
                                     dependencies: Dictionary(uniqueKeysWithValues: plan.neededStages().map { i in
                                         (plan.displayName(i), plan.dependencies(of: i).map { plan.displayName($0) })
                                     }))
        if textProgress && plan.neededStages().count > 1 { _ = writeStandardError(timeline.summary + "\n") }
        if let report {
            try OutputFile.write(Array(timeline.renderHTML(title: "slipway build \(tags.first ?? contextDir)").utf8), to: report, what: "the build report")
        }
        if explain { _ = writeStandardError(BuildExplainTable.render(await reporter.stepSummaries())) }
        trace.mark("export")
        let id = result.written?.id.description ?? "(not stored)"
        let size = result.written?.size ?? result.target.layers.reduce(0) { $0 + $1.size }
        await reporter.emit(.result(imageID: id, tags: tags, size: size))
        // The image is stored, but a script reading the result (`| head -1`) did not get it.
        if let failure = await reporter.outputFailure { throw failure }
    }
}

/// The build checks a build found while it ran (after the parse's).
actor BuildCheckFindings {
    private var findings: [LintFinding] = []
    func add(_ finding: LintFinding) { findings.append(finding) }
    /// `checks` with these appended, in line order.
    func adding(to checks: LintResult) -> LintResult {
        var all = checks
        all.findings = (checks.findings + findings).sorted { ($0.line, $0.rule) < ($1.line, $1.rule) }
        return all
    }
}

/// `SLIPWAY_TRACE=1`: where a build's wall time goes (for scripts/bench-build.sh), on stderr.
final class PhaseTrace: @unchecked Sendable {
    let enabled = ProcessInfo.processInfo.environment["SLIPWAY_TRACE"] == "1"
    let clock = ContinuousClock()
    var last: ContinuousClock.Instant
    var phases: [(String, Duration)] = []

    init() { last = clock.now }

    func mark(_ name: String) {
        guard enabled else { return }
        let now = clock.now
        phases.append((name, now - last))
        last = now
    }

    func report() {
        guard enabled else { return }
        let text = phases.map { name, d in
            let ms = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
            return name + " " + String(format: "%.2f", ms) + " ms"
        }
        writeStandardError("trace: " + text.joined(separator: ", ") + "\n")
    }
}
