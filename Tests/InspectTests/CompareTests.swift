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

@Suite struct NpmDevDependencyTests {
    static let lockV3 = """
        {"name":"app","lockfileVersion":3,"packages":{
          "":{"name":"app","dependencies":{"express":"^4"},"devDependencies":{"typescript":"^5"}},
          "node_modules/express":{"version":"4.18.2"},
          "node_modules/typescript":{"version":"5.3.3","dev":true},
          "node_modules/express/node_modules/debug":{"version":"2.6.9"},
          "node_modules/@types/node":{"version":"20.1.0","dev":true}
        }}
        """

    @Test func lockfileV3AndV1() {
        #expect(NpmLockfile.devPackageDirectories(lockfile: Array(Self.lockV3.utf8), lockfilePath: "/app/package-lock.json")
                == ["/app/node_modules/@types/node", "/app/node_modules/typescript"])
        let v1 = #"{"lockfileVersion":1,"dependencies":{"jest":{"version":"29","dev":true,"dependencies":{"x":{"dev":true}}},"lodash":{"version":"4"}}}"#
        #expect(NpmLockfile.devPackageDirectories(lockfile: Array(v1.utf8), lockfilePath: "/srv/package-lock.json")
                == ["/srv/node_modules/jest", "/srv/node_modules/jest/node_modules/x"])
        #expect(NpmLockfile.devPackageDirectories(lockfile: Array("not json".utf8), lockfilePath: "/a/package-lock.json").isEmpty)
    }

    @Test func devDependenciesAreBuildOnly() {
        let entries = [
            LayerEntry(path: "app/package-lock.json", kind: .file, size: Int64(Self.lockV3.utf8.count)),
            LayerEntry(path: "app/node_modules/express/index.js", kind: .file, size: 1_000),
            LayerEntry(path: "app/node_modules/typescript/lib/tsc.js", kind: .file, size: 9_000_000),
            LayerEntry(path: "app/node_modules/@types/node/index.d.ts", kind: .file, size: 500_000),
        ]
        let image = ImageInput(name: "node:single", layers: [
            LayerInput(entries: entries, captured: ["app/package-lock.json": Array(Self.lockV3.utf8)]),
        ])
        let report = Analyzer.analyze(image).buildOnly
        let dev = report.classes.first { $0.kind == .devDependencies }
        #expect(dev?.bytes == 9_500_000)
        #expect(dev?.topDirectories.map(\.path) == ["/app/node_modules/typescript", "/app/node_modules/@types/node"])
        // After `npm prune --production` the packages are gone and nothing is counted.
        let pruned = ImageInput(name: "node:pruned", layers: [
            LayerInput(entries: Array(entries.prefix(2)), captured: ["app/package-lock.json": Array(Self.lockV3.utf8)]),
        ])
        #expect(Analyzer.analyze(pruned).buildOnly.classes.isEmpty)
    }
}
