import ArgumentParser
import Foundation
import Inspect

/// `slipway compare A B`: sizes, reduction, layer counts, file and package differences.
struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two images: sizes, reduction, files and OS packages added or removed.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var registry: RegistryOptions

    @Argument(help: "The first (usually the larger, single-stage) image.")
    var a: String

    @Argument(help: "The second image.")
    var b: String

    @Option(help: "Output format: text or json.")
    var format: AnalyzeCommand.OutputFormat = .text

    func run() async throws {
        try await reportingErrorsAsync {
            let left = try await loadForInspection(a, store: store, registry: registry)
            let right = try await loadForInspection(b, store: store, registry: registry)
            let comparison = Comparer.compare(left, right)
            switch format {
            case .text:
                print(comparison.renderText(), terminator: "")
            case .json:
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(comparison), as: UTF8.self))
            }
        }
    }
}
