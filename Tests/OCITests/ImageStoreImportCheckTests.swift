import Foundation
import Testing
@testable import OCI

/// `import` refuses a tarball that no extraction would accept (issue 18 #10): the error comes
/// at import, naming the entry, not at the first `run` or build that unpacks the layer.
@Suite("Store: import checks what it imports")
struct ImageStoreImportCheckTests {
    @Test("an entry with a `..` component or a hard link out of the root is refused at import, and nothing is recorded",
          arguments: [
            [(TarEntry(path: "ok", kind: .regular), Array("x".utf8)), (TarEntry(path: "../outside/pwned", kind: .regular), Array("x".utf8))],
            [(TarEntry(path: "hl", kind: .hardlink, linkName: "../../etc/shadow"), [UInt8]())],
          ] as [[(TarEntry, [UInt8])]])
    func escapingTarRefused(_ entries: [(TarEntry, [UInt8])]) async throws {
        let t = try TempStore()
        let file = t.dir + "-evil.tar"
        defer { unlink(file) }
        try Data(try makeTar(entries)).write(to: URL(fileURLWithPath: file))
        let bad = entries.last!.0.path
        let error = await #expect(throws: StoreError.self) {
            try await ImageArchive.importRootfs(from: file, into: t.store, tags: [try ImageReference(parsing: "evil:1")])
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains(bad), "\(String(describing: error))")
        #expect(try t.store.images().isEmpty)
        // A clean tarball still imports.
        try Data(try makeTar([(TarEntry(path: "etc/ok", kind: .regular), Array("ok".utf8))])).write(to: URL(fileURLWithPath: file))
        _ = try await ImageArchive.importRootfs(from: file, into: t.store, tags: [try ImageReference(parsing: "good:1")])
        #expect(try t.store.images().count == 1)
    }
}
