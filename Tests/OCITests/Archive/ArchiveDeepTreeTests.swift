import Foundation
import Testing
@testable import OCI

/// Deep trees are handled without recursion (no stack overflow, bounded descriptors), and
/// absurd depths are refused with a clear error instead of crashing.
@Suite("Archive deep trees")
struct ArchiveDeepTreeTests {
    static func deepPath(_ levels: Int) -> String { Array(repeating: "d", count: levels).joined(separator: "/") }

    @Test("a 900-level tree round trips and a whiteout removes it")
    func deepRoundTrip() async throws {
        let dir = ScratchDir("deep")
        let tree = dir.sub("tree")
        try await shell("cd '\(tree)' && mkdir -p \(Self.deepPath(900)) && echo leaf > \(Self.deepPath(900))/leaf")
        let blob = try LayerWriter(options: .init(compression: .zstd)).write(directory: tree, into: dir.path)
        let out = dir.sub("out")
        try LayerApplier().apply(blob: blob.file, to: out)
        #expect(readFile(out + "/" + Self.deepPath(900) + "/leaf") == "leaf\n")
        try LayerApplier().apply(stream: MemorySource(try makeTar([(TarEntry(path: ".wh.d", kind: .regular, mode: 0), [])])), to: out)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty)
    }

    @Test("deeper than 1024 levels is refused, not a crash")
    func tooDeep() async throws {
        let dir = ScratchDir("deep")
        let tree = dir.sub("tree")
        try await shell("cd '\(tree)' && mkdir -p \(Self.deepPath(1500))")
        #expect(throws: ArchiveError.self) {
            _ = try LayerWriter().write(directory: tree, into: dir.path)
        }
        let path = Self.deepPath(1100) + "/f"
        #expect(throws: ArchiveError.unsupported(entry: path, detail: "its path has more than 1024 components")) {
            try LayerApplier().apply(stream: MemorySource(try makeTar([(TarEntry(path: path, kind: .regular), [])])), to: dir.sub("out"))
        }
    }
}
