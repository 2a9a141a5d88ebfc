import Testing
@testable import Inspect

/// The dpkg side of the build-only classifier: build tools and what only they need.
@Suite struct BuildPackagesTests {
    static let status = """
        Package: libc6
        Status: install ok installed
        Priority: required
        Version: 2.36

        Package: libgmp10
        Status: install ok installed
        Priority: optional
        Depends: libc6

        Package: libhogweed6
        Status: install ok installed
        Priority: optional
        Depends: libgmp10, libc6

        Package: libmpfr6
        Status: install ok installed
        Priority: optional
        Depends: libgmp10 (>= 2:6.2.1), libc6

        Package: gcc-12
        Status: install ok installed
        Priority: optional
        Depends: cpp-12 (= 12.2.0-14), libmpfr6,
         libc6

        Package: cpp-12
        Status: install ok installed
        Priority: optional
        Depends: libmpfr6

        Package: python3
        Status: install ok installed
        Priority: optional
        Depends: libc6

        Package: npm
        Status: install ok installed
        Priority: optional
        Depends: node-gyp, node-semver | node-semver-compat, nodejs:any

        Package: node-gyp
        Status: install ok installed
        Priority: optional
        Depends: python3, node-glob

        Package: node-glob
        Status: install ok installed
        Priority: optional

        Package: node-semver
        Status: install ok installed
        Priority: optional

        Package: nodejs
        Status: install ok installed
        Priority: optional
        Depends: libnode108

        Package: libnode108
        Status: install ok installed
        Priority: optional
        Depends: node-acorn, libc6

        Package: node-acorn
        Status: install ok installed
        Priority: optional

        Package: mawk
        Status: install ok installed
        Priority: required
        Provides: awk

        Package: libssl-dev
        Status: deinstall ok config-files
        Priority: optional
        """

    /// Everything but nodejs was installed as a dependency.
    static let states = ["libgmp10", "libhogweed6", "libmpfr6", "cpp-12", "python3", "node-gyp", "node-glob",
                         "node-semver", "libnode108", "node-acorn"]
        .map { "Package: \($0)\nArchitecture: amd64\nAuto-Installed: 1\n" }.joined(separator: "\n")

    @Test func toolsAndWhatOnlyTheyNeedAreBuildOnly() {
        let result = BuildPackages.buildOnly(dpkgStatus: Self.status, extendedStates: Self.states)
        // python3 came only for node-gyp; libgmp10 is kept by libhogweed6, nodejs (chosen by the
        // user, so not in extended_states) keeps libnode108 and node-acorn; libssl-dev is not installed.
        #expect(result == ["gcc-12", "cpp-12", "libmpfr6", "npm", "node-gyp", "node-glob", "node-semver", "python3"])
    }

    @Test func withoutAutoMarksOnlyTheToolsAre() {
        let result = BuildPackages.buildOnly(dpkgStatus: Self.status)
        #expect(result == ["gcc-12", "cpp-12", "npm", "node-gyp"])
    }

    @Test func namesThatAreBuildTools() {
        for tool in ["gcc", "g++-12", "make", "dpkg-dev", "libpq-dev", "libc-dev-bin", "npm", "node-gyp", "binutils-x86-64-linux-gnu"] {
            #expect(BuildPackages.isTool(tool), "\(tool)")
        }
        for runtime in ["libpq5", "nodejs", "python3", "devscripts-el", "libgcc-s1"] {
            #expect(!BuildPackages.isTool(runtime), "\(runtime)")
        }
    }

    @Test func relationsParse() {
        #expect(BuildPackages.parseRelations("a (>= 1), b | c:any, ") == [["a"], ["b", "c"]])
    }
}
