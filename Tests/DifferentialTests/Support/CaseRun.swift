import Foundation
import TestSupport

/// Builds one case with both builders (or with Slipway against its expected output) and lists
/// the differences.
struct CaseRun {
    let spec: CaseSpec
    let session: DifferentialSession

    struct Outcome {
        var differences: [Difference]
        /// BuildKit 0.8 built a case the rules say it cannot (the rule and expected.json are stale).
        var unexpectedlySupported = false
        var seconds: Double
    }

    func run(expectedOutput: Bool) async throws -> Outcome {
        for base in BaseImage.defaults + (spec.options.bases ?? []) { try await session.ensure(base) }
        return try await session.limited {
            let start = Date()
            let context = try await prepareContext()
            let slipway = try await buildWithSlipway(context)
            let docker = try await buildWithDocker(context)
            var outcome = Outcome(differences: [], seconds: 0)
            if expectedOutput {
                outcome.unexpectedlySupported = (try? docker.get()) != nil
                let bases = try await baseSnapshots()
                let expected = try ExpectedOutput.snapshot(spec.expectedPath, bases: bases,
                                                           replacing: [CaseSpec.httpPlaceholder: session.docker.httpBase])
                outcome.differences = compare(expected, slipway)
            } else {
                switch docker {
                case .success(let reference): outcome.differences = compare(reference, slipway)
                case .failure(let error): outcome.differences = [Difference(field: "build", reference: "failed: \(error)", slipway: describe(slipway))]
                }
            }
            try? FileManager.default.removeItem(atPath: context)
            outcome.seconds = Date().timeIntervalSince(start)
            return outcome
        }
    }

    private func compare(_ reference: ImageSnapshot, _ slipway: Result<ImageSnapshot, Error>) -> [Difference] {
        switch slipway {
        case .success(let image): return SnapshotDiff.differences(reference: reference, slipway: image)
        case .failure(let error): return [Difference(field: "build", reference: "built", slipway: "failed: \(error)")]
        }
    }

    private func describe(_ result: Result<ImageSnapshot, Error>) -> String {
        switch result {
        case .success: return "built"
        case .failure(let error): return "failed: \(error)"
        }
    }

    /// The base snapshots expected.json may name: the default bases and the case's own.
    private func baseSnapshots() async throws -> [String: ImageSnapshot] {
        var result: [String: ImageSnapshot] = [:]
        for base in BaseImage.defaults + (spec.options.bases ?? []) {
            for name in base.names { result[name] = try await session.baseSnapshot(name) }
        }
        return result
    }

    /// A copy of the case directory without the suite's own files (plus the article's Dockerfile).
    private func prepareContext() async throws -> String {
        let context = session.root + "/ctx/" + spec.name
        try? FileManager.default.removeItem(atPath: context)
        try FileManager.default.createDirectory(atPath: (context as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let copy = try await runProcess(["/bin/cp", "-a", spec.directory, context])
        guard copy.status == 0 else { throw DifferentialError("copying \(spec.directory): \(copy.stderr)") }
        for file in CaseSpec.suiteFiles { try? FileManager.default.removeItem(atPath: context + "/" + file) }
        switch spec.options.project {
        case nil: break
        case "rust": try ArticleExamples.writeRustProject(to: context)
        case "java": try ArticleExamples.writeJavaProject(to: context)
        case let other?: throw DifferentialError("\(spec.name): no article project named '\(other)' (rust, java)")
        }
        if spec.options.article != nil {
            try spec.dockerfileText().write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        }
        return context
    }

    /// Flags both CLIs spell the same way.
    private func commonFlags(_ context: String) async -> [String] {
        let options = spec.options
        var flags = ["-f", context + "/" + (options.article == nil ? options.dockerfile ?? "Dockerfile" : "Dockerfile")]
        if let target = options.target { flags += ["--target", target] }
        for (key, value) in (options.buildArgs ?? [:]).sorted(by: { $0.key < $1.key }) {
            flags += ["--build-arg", "\(key)=\(value.replacingOccurrences(of: CaseSpec.httpPlaceholder, with: session.docker.httpBase))"]
        }
        for (id, file) in (options.secrets ?? [:]).sorted(by: { $0.key < $1.key }) { flags += ["--secret", "id=\(id),src=\(spec.directory)/\(file)"] }
        if options.ssh == true { flags += ["--ssh", "default=\(session.docker.dir)/agent.sock"] }
        return flags
    }

    private func buildWithSlipway(_ context: String) async throws -> Result<ImageSnapshot, Error> {
        let tag = "diff/\(spec.name):slipway"
        let flags = await commonFlags(context)
        do {
            try await session.slipway(["build", "--progress", "plain", "--network", "host", "-t", tag] + flags + [context])
            return .success(try await session.snapshot(ofSlipwayImage: tag))
        } catch {
            return .failure(error)
        }
    }

    private func buildWithDocker(_ context: String) async throws -> Result<ImageSnapshot, Error> {
        let tag = "diff/\(spec.name):docker"
        let flags = await commonFlags(context)
        do {
            try await session.docker(["build", "--progress", "plain", "--network", "host", "-t", tag] + flags + [context])
            return .success(try await session.snapshot(ofDockerImage: tag))
        } catch {
            return .failure(error)
        }
    }
}
