import ArgumentParser
import Build
import Dockerfile
import Foundation

/// `slipway debug context DIR [SOURCE...]`: the content digest COPY would put in its cache key,
/// with timings, to see what a context costs to hash (first pass reads every file; later
/// passes in the same process hit the per-build memo).
struct DebugContext: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "context",
        abstract: "Hash COPY sources from a build context and print the digest and timings."
    )

    @Option(name: .long, help: "Ignore file (default: what a build uses: <Dockerfile>.dockerignore, else DIR/.dockerignore).")
    var ignoreFile: String?

    @Option(name: [.short, .customLong("file")], help: "The Dockerfile a build would use (its <name>.dockerignore wins; default DIR/Dockerfile).")
    var file: String?

    @Option(name: .customLong("repeat"), help: "Hash this many times in one process (later runs use the memo).")
    var passes: Int = 2

    @Option(name: .long, help: "Load file digests from this memo first and save them after (as a build would).")
    var memo: String?

    @Argument(help: "The build context directory.")
    var directory: String

    @Argument(help: "COPY sources (wildcards allowed); default '.'.")
    var sources: [String] = []

    func run() async throws {
        do {
            let context: BuildContext
            if let ignoreFile {
                let text = (try? String(contentsOfFile: ignoreFile, encoding: .utf8)) ?? ""
                context = try BuildContext(directory: directory, filter: try IgnoreMatcher(ignoreFile: text))
            } else {
                // Exactly the build's choice of ignore file.
                context = try BuildContext.forBuild(contextDirectory: directory, dockerfilePath: file ?? directory + "/Dockerfile")
            }
            if let memo { context.loadDigestMemo(from: memo) }
            let spec = CopySpec(sources: sources.isEmpty ? ["."] : sources, destination: "/")
            for pass in 1...max(1, passes) {
                let start = DispatchTime.now().uptimeNanoseconds
                let digest = try Copier.sourceDigest(spec, from: context)
                let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                print("pass \(pass): \(digest) in \(String(format: "%.1f", ms)) ms")
            }
            if let memo { try context.saveDigestMemo(to: memo) }
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}
