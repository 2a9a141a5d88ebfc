import Testing
@testable import Inspect

@Suite struct CompareTests {
    static let statusA = """
        Package: gcc-12
        Status: install ok installed
        Version: 12.2.0-14

        Package: libc6
        Status: install ok installed
        Version: 2.36-9+deb12u3
        Description: GNU C Library
         continuation line: not a field

        Package: removed-one
        Status: deinstall ok config-files
        Version: 1.0

        """
    static let statusB = """
        Package: libc6
        Status: install ok installed
        Version: 2.36-9+deb12u4

        Package: libpq5
        Status: install ok installed
        Version: 15.5-0+deb12u1

        """

    func image(_ name: String, _ files: [(String, Int64, UInt64)], status: String) -> ImageInput {
        var entries = files.map { LayerEntry(path: $0.0, kind: .file, size: $0.1, contentHash: $0.2) }
        entries.append(LayerEntry(path: "var/lib/dpkg/status", kind: .file, size: Int64(status.utf8.count)))
        return ImageInput(name: name, layers: [LayerInput(blobSize: 100, entries: entries,
                                                          captured: ["var/lib/dpkg/status": Array(status.utf8)])])
    }

    @Test func comparesSizesFilesAndPackages() {
        let a = image("app:single", [("usr/bin/gcc-12", 1_000_000, 1), ("usr/lib/gcc/x/cc1", 30_000_000, 2),
                                     ("app/server", 8_000_000, 3), ("etc/os-release", 100, 4)], status: Self.statusA)
        let b = image("app:multi", [("app/server", 8_000_000, 3), ("etc/os-release", 120, 5),
                                    ("usr/lib/libpq.so.5", 300_000, 6)], status: Self.statusB)
        let c = Comparer.compare(a, b)
        #expect(c.a.layers == 1 && c.b.layers == 1)
        #expect(c.removed == Tally(files: 2, bytes: 31_000_000))
        #expect(c.added == Tally(files: 1, bytes: 300_000))
        #expect(c.changed.files == 2)  // os-release and the dpkg status
        #expect(c.a.size - c.b.size == 31_000_000 - 300_000 - 20 + Int64(Self.statusA.utf8.count - Self.statusB.utf8.count))
        #expect(c.reductionPercent > 78 && c.reductionPercent < 79)
        #expect(c.packagesRemoved.map(\.name) == ["gcc-12"])
        #expect(c.packagesAdded.map(\.name) == ["libpq5"])
        #expect(c.packagesChanged == [PackageChange(name: "libc6", from: "2.36-9+deb12u3", to: "2.36-9+deb12u4")])
        #expect(c.directories.first?.path == "/usr/lib/gcc")
        let text = c.renderText()
        #expect(text.contains("B is 78."))
        #expect(text.contains("Packages removed (1):\n  gcc-12 12.2.0-14"))
    }

    @Test func parsesApkDatabase() {
        let db = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\n\nP:busybox\nV:1.36.1-r15\n\n"
        #expect(PackageSet.parseApkInstalled(db) == ["musl": "1.2.4-r2", "busybox": "1.36.1-r15"])
    }
}
