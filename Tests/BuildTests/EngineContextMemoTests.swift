import Foundation
import OCI
import Testing
@testable import Build

/// The engine keeps the context's file digests in the store between builds, so a no-change
/// rebuild reads no source file.
@Suite("EngineContextMemo")
struct EngineContextMemoTests {
    @Test func digestsAreSavedAfterABuildAndLoadedByTheNext() async throws {
        let t = TempTree("memo-ctx")
        t.file("src/a.txt", "alpha")
        let store = TempTree("memo-root")
        let memoDirectory = store.p("context-memo")
        let op = CopyStep(spec: CopySpec(sources: ["src"], destination: "/s/"))

        let first = try ContextCopier(contextDirectory: t.path, dockerfile: "Dockerfile", memoDirectory: memoDirectory)
        let memoFile = try #require(first.memoFile)
        #expect(memoFile == ContextCopier.memoFile(in: memoDirectory, contextRoot: first.context.root))
        #expect(memoFile.hasPrefix(memoDirectory + "/"))
        let d0 = try await first.sourceDigest(op, from: .context(t.path))
        #expect(!FileManager.default.fileExists(atPath: memoFile))
        try await first.finishBuild()
        #expect(FileManager.default.fileExists(atPath: memoFile), "the memo is saved (in a new directory) after the build")

        // Save without the racy window (the file was written just now), then plant a digest: a
        // new copier for the same context must take it from the memo instead of reading the file.
        try first.context.memo.save(memoFile, racyWindow: -1)
        let planted = try String(contentsOfFile: memoFile, encoding: .utf8)
            .replacingOccurrences(of: Digest.sha256("alpha").encoded, with: String(repeating: "0", count: 64))
        #expect(planted.contains(String(repeating: "0", count: 64)))
        try planted.write(toFile: memoFile, atomically: true, encoding: .utf8)
        let second = try ContextCopier(contextDirectory: t.path, dockerfile: "Dockerfile", memoDirectory: memoDirectory)
        #expect(try await second.sourceDigest(op, from: .context(t.path)) != d0, "the remembered digest was used")

        // Without a memo directory nothing is loaded or saved.
        let plain = try ContextCopier(contextDirectory: t.path, dockerfile: "Dockerfile")
        #expect(plain.memoFile == nil)
        #expect(try await plain.sourceDigest(op, from: .context(t.path)) == d0)
    }
}
