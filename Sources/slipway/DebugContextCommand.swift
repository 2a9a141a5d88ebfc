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

    @Option(name: .long, help: "Ignore file (default: DIR/.dockerignore when present).")
    var ignoreFile: String?

    @Option(name: .customLong("repeat"), help: "Hash this many times in one process (later runs use the memo).")
    var passes: Int = 2

    @Option(name: .long, help: "Load file digests from this memo first and save them after (as a build would).")
    var memo: String?

    @Argument(help: "The build context directory.")
    var directory: String

    @Argument(help: "COPY sources (wildcards allowed); default '.'.")
    var sources: [String] = []

    func run() async throws {
        let ignorePath = ignoreFile ?? directory + "/.dockerignore"
        let text = (try? String(contentsOfFile: ignorePath, encoding: .utf8)) ?? ""
        do {
            let matcher = try IgnoreMatcher(ignoreFile: text)
            let context = try BuildContext(directory: directory, filter: matcher)
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
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
