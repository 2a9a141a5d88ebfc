import ArgumentParser
import Foundation
import Inspect

/// `slipway analyze IMAGE`: dive's efficiency figures, per-layer changes, and what a
/// multi-stage build would drop; `--ci` turns thresholds into an exit code.
struct AnalyzeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Measure an image: layer sizes and changes, wasted space, build-only content.",
        discussion: """
            IMAGE is a name or ID in the store, an OCI layout directory, or an image archive \
            (OCI layout tar or docker-archive, old or new layout). Prefix with oci:, oci-archive: \
            or docker-archive: to force a source, or with docker:// to pull it from a registry.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var registry: RegistryOptions

    @Argument(help: "The image to analyze.")
    var image: String

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Option(name: .customLong("html"), help: ArgumentHelp("Also write a self-contained HTML report.", valueName: "file"))
    var htmlFile: String?

    @Flag(help: "Evaluate the CI rules and exit non-zero when one fails (also on when CI=true).")
    var ci = false

    @Option(name: .customLong("ci-config"), help: ArgumentHelp("CI rules file in dive's .dive-ci format (default: ./.dive-ci when present).", valueName: "file"))
    var ciConfig: String?

    @Option(name: .customLong("lowest-efficiency"), help: "CI: fail below this efficiency (0-1, or 'disabled'; default 0.9).")
    var lowestEfficiency: String?

    @Option(name: .customLong("highest-wasted-bytes"), help: "CI: fail above this many wasted bytes (e.g. 20MB, or 'disabled'; default disabled).")
    var highestWastedBytes: String?

    @Option(name: .customLong("highest-user-wasted-percent"), help: "CI: fail above this wasted/user-bytes ratio (0-1 or N%, or 'disabled'; default 0.1).")
    var highestUserWastedPercent: String?

    @Option(name: .customLong("max-build-only-percent"), help: "CI: fail when build-only content is above this share of the image (0-1 or N%; default disabled).")
    var maxBuildOnlyPercent: String?

    enum OutputFormat: String, ExpressibleByArgument { case text, json }

    func thresholds() throws -> CIThresholds {
        var t = CIThresholds()
        let configPath = ciConfig ?? (FileManager.default.fileExists(atPath: ".dive-ci") ? ".dive-ci" : nil)
        if let configPath {
            guard let data = FileManager.default.contents(atPath: configPath) else {
                throw ValidationError("cannot read CI config \(configPath)")
            }
            do {
                try t.apply(diveCI: String(decoding: data, as: UTF8.self))
            } catch {
                throw ValidationError("\(configPath): \(error)")
            }
        }
        func ratio(_ text: String?, _ name: String, _ current: Double?) throws -> Double? {
            guard let text else { return current }
            if text.lowercased() == "disabled" { return nil }
            guard let value = ByteFormat.parseRatio(text) else {
                throw ValidationError("--\(name): '\(text)' is not a number (use e.g. 0.9, 10% or disabled)")
            }
            return value
        }
        t.lowestEfficiency = try ratio(lowestEfficiency, "lowest-efficiency", t.lowestEfficiency)
        t.highestUserWastedPercent = try ratio(highestUserWastedPercent, "highest-user-wasted-percent", t.highestUserWastedPercent)
        t.maxBuildOnlyPercent = try ratio(maxBuildOnlyPercent, "max-build-only-percent", t.maxBuildOnlyPercent)
        if let text = highestWastedBytes {
            if text.lowercased() == "disabled" {
                t.highestWastedBytes = nil
            } else if let bytes = ByteFormat.parse(text) {
                t.highestWastedBytes = bytes
            } else {
                throw ValidationError("--highest-wasted-bytes: '\(text)' is not a size (use e.g. 20MB or disabled)")
            }
        }
        return t
    }

    func run() async throws {
        try await reportingErrorsAsync {
            let thresholds = try thresholds()
            let input = try await loadForInspection(image, store: store, registry: registry)
            let analysis = Analyzer.analyze(input)
            let ciEnabled = ci || ciConfig != nil || ProcessInfo.processInfo.environment["CI"]?.lowercased() == "true"
                || lowestEfficiency != nil || highestWastedBytes != nil || highestUserWastedPercent != nil
                || maxBuildOnlyPercent != nil
            let results = ciEnabled ? CIEvaluator.evaluate(analysis, thresholds: thresholds) : []
            if let htmlFile {
                let page = analysis.renderHTML()
                do {
                    try Data(page.utf8).write(to: URL(fileURLWithPath: htmlFile), options: .atomic)
                } catch {
                    throw ValidationError("cannot write \(htmlFile): \(error.localizedDescription)")
                }
            }
            switch format {
            case .json:
                struct Output: Encodable {
                    var analysis: ImageAnalysis
                    var ci: [CIResult]?
                }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                let data = try encoder.encode(Output(analysis: analysis, ci: ciEnabled ? results : nil))
                print(String(decoding: data, as: UTF8.self))
            case .text:
                print(analysis.renderText(), terminator: "")
                if let htmlFile { print("\nHTML report written to \(htmlFile)") }
                if ciEnabled {
                    print("\nCI rules:")
                    for r in results { print("  \(r.status.rawValue.uppercased()): \(r.rule): \(r.message)") }
                }
            }
            if results.contains(where: { $0.status == .fail }) {
                if format == .text { print("CI: failed") }
                throw ExitCode(2)
            }
        }
    }
}
