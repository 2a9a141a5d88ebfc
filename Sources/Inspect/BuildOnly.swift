/// Content a running container never needs, only the build that made it. A multi-stage build
/// leaves all of it behind in the builder stage.
public enum BuildOnlyClass: String, Sendable, Codable, CaseIterable, Hashable {
    case toolchains
    case headers
    case staticLibraries = "static-libraries"
    case packageCaches = "package-caches"
    case vcs
    case docs
    case sources
    case tests
    case devDependencies = "dev-dependencies"
    case buildPackages = "build-packages"

    public var title: String {
        switch self {
        case .devDependencies: return "npm devDependencies"
        case .buildPackages: return "OS packages only build tools need"
        case .toolchains: return "compilers and toolchains"
        case .headers: return "C/C++ headers"
        case .staticLibraries: return "static libraries"
        case .packageCaches: return "package-manager caches and lists"
        case .vcs: return "version-control directories"
        case .docs: return "documentation and man pages"
        case .sources: return "source files of compiled languages"
        case .tests: return "test directories"
        }
    }
}

/// Decides, path by path, whether a file of a final filesystem is build-only and which
/// directory to report it under.
public enum BuildOnlyClassifier {
    /// Directory prefixes that are wholly caches.
    static let cachePrefixes = [
        "/var/lib/apt/lists/", "/var/cache/apt/", "/var/cache/apk/", "/var/cache/yum/", "/var/cache/dnf/",
        "/usr/local/share/.cache/", "/usr/local/cargo/registry/", "/usr/local/cargo/git/", "/go/pkg/mod/",
        "/go/pkg/cache/",
    ]
    /// Path components that start a cache, wherever they are (home directories vary).
    static let cacheComponents: [[String]] = [
        [".npm"], [".cache"], [".yarn", "cache"], [".cargo", "registry"], [".cargo", "git"], ["go", "pkg", "mod"],
        [".gradle", "caches"], [".m2", "repository"], [".pnpm-store"], [".composer", "cache"], [".bundle", "cache"],
    ]
    static let toolchainPrefixes = [
        "/usr/lib/gcc/", "/usr/libexec/gcc/", "/usr/lib/gcc-cross/", "/usr/local/go/", "/usr/lib/go/",
        "/usr/local/rustup/", "/usr/local/cargo/bin/", "/usr/share/cmake/", "/usr/lib/x86_64-linux-gnu/bfd-plugins/",
    ]
    /// `/usr/lib/<name>-<version>/` style toolchain directories.
    static let versionedToolchainDirs = ["go-", "llvm-", "jvm-src-"]
    static let toolchainBinaries: Set<String> = [
        "gcc", "g++", "cc", "c++", "cpp", "c89", "c99", "gfortran", "cc1", "cc1plus", "cc1obj", "collect2", "lto1",
        "lto-wrapper", "ld", "ld.bfd", "ld.gold", "ld.lld", "as", "ar", "ranlib", "nm", "objdump", "objcopy", "strip",
        "readelf", "gprof", "make", "gmake", "cmake", "ninja", "go", "gofmt", "rustc", "cargo", "rustup", "rustdoc",
        "rustfmt", "cargo-clippy", "clippy-driver", "javac", "jar", "javadoc", "jlink", "jmod", "jdeps", "clang",
        "clang++", "lld", "node-gyp", "autoconf", "automake", "libtool", "m4", "bison", "flex", "dpkg-buildpackage",
        "g++-12", "gcc-12", "cpp-12", "dwp", "gold", "elfedit", "addr2line", "c++filt", "size", "strings",
    ]
    static let toolchainLibraryPrefixes = ["libasan.", "libtsan.", "liblsan.", "libubsan.", "libhwasan.", "libbfd-",
                                           "libopcodes-", "libctf.", "libctf-nobfd.", "libgprofng.", "libcc1.", "libisl.", "libmpc.", "libsframe."]
    static let docsPrefixes = ["/usr/share/doc/", "/usr/share/man/", "/usr/share/info/", "/usr/share/gtk-doc/",
                               "/usr/local/share/doc/", "/usr/local/share/man/", "/usr/local/man/", "/usr/share/help/"]
    static let headerPrefixes = ["/usr/include/", "/usr/local/include/"]
    static let headerExtensions: Set<String> = ["h", "hh", "hpp", "hxx", "h++", "inl"]
    static let staticExtensions: Set<String> = ["a", "la"]
    static let sourceExtensions: Set<String> = ["c", "cc", "cpp", "cxx", "c++", "go", "rs", "java", "kt", "scala",
                                                "swift", "m", "mm", "cs", "f90", "ts", "tsx", "zig"]
    static let vcsDirs: Set<String> = [".git", ".svn", ".hg", ".bzr"]
    static let testDirs: Set<String> = ["test", "tests", "__tests__", "testdata", "__snapshots__"]

    /// The class of `path` (absolute) and the directory it is reported under, or nil when the
    /// file is needed at run time as far as the classifier can tell.
    public static func classify(path: String) -> (BuildOnlyClass, directory: String)? {
        let parts = path.split(separator: "/").map(String.init)
        guard let name = parts.last else { return nil }
        let dirParts = parts.dropLast()
        let ext = name.contains(".") ? String(name.split(separator: ".").last ?? "").lowercased() : ""

        func prefixDir(_ prefix: String) -> String { String(prefix.dropLast()) }
        func upTo(_ count: Int) -> String { "/" + parts.prefix(count).joined(separator: "/") }
        func componentRun(_ run: [String]) -> Int? {
            guard run.count <= dirParts.count else { return nil }
            for start in 0...(dirParts.count - run.count) where Array(dirParts[start..<start + run.count]) == run {
                return start + run.count
            }
            return nil
        }

        // Caches and lists.
        if let prefix = cachePrefixes.first(where: path.hasPrefix) { return (.packageCaches, prefixDir(prefix)) }
        for run in cacheComponents {
            if let end = componentRun(run) { return (.packageCaches, upTo(end)) }
        }
        // Version control.
        if let index = dirParts.firstIndex(where: vcsDirs.contains) { return (.vcs, upTo(index + 1)) }
        // Toolchains.
        if let prefix = toolchainPrefixes.first(where: path.hasPrefix) { return (.toolchains, prefixDir(prefix)) }
        if parts.count > 3, parts[0] == "usr", parts[1] == "lib" || parts[1] == "share",
           parts[2] == "go" || versionedToolchainDirs.contains(where: { parts[2].hasPrefix($0) }) {
            return (.toolchains, upTo(3))
        }
        if !docsPrefixes.contains(where: path.hasPrefix),
           let index = dirParts.firstIndex(of: "node-gyp") ?? dirParts.firstIndex(of: ".node-gyp") {
            return (.toolchains, upTo(index + 1))
        }
        if let jdk = dirParts.firstIndex(where: { $0.contains("jdk") }) {
            let rest = parts[(jdk + 1)...]
            if rest.first == "jmods" || rest.first == "include" || (rest.first == "lib" && name == "src.zip") ||
                (rest.first == "bin" && toolchainBinaries.contains(name)) {
                return (.toolchains, upTo(jdk + 2))
            }
        }
        let inBin = dirParts.last == "bin" || dirParts.last == "sbin"
        if inBin, toolchainBinaries.contains(name) || isCrossToolName(name) || isVersionedCompiler(name) {
            return (.toolchains, upTo(parts.count - 1) + "/" + name)
        }
        if toolchainLibraryPrefixes.contains(where: name.hasPrefix), dirParts.contains("lib") {
            return (.toolchains, upTo(parts.count - 1))
        }
        // Headers and static libraries.
        if let prefix = headerPrefixes.first(where: path.hasPrefix) { return (.headers, prefixDir(prefix)) }
        if headerExtensions.contains(ext) { return (.headers, topDirectory(dirParts)) }
        if staticExtensions.contains(ext) { return (.staticLibraries, topDirectory(dirParts)) }
        // Documentation.
        if let prefix = docsPrefixes.first(where: path.hasPrefix) { return (.docs, prefixDir(prefix)) }
        // Tests.
        if let index = dirParts.firstIndex(where: testDirs.contains) { return (.tests, upTo(index + 1)) }
        // Sources of compiled languages (TypeScript declaration files are runtime type data).
        if path.hasPrefix("/usr/src/") { return (.sources, "/usr/src") }
        if sourceExtensions.contains(ext), !name.hasSuffix(".d.ts") { return (.sources, topDirectory(dirParts)) }
        return nil
    }

    /// `x86_64-linux-gnu-gcc-12` and friends.
    static func isCrossToolName(_ name: String) -> Bool {
        guard name.contains("-linux-gnu") else { return false }
        let tool = name.components(separatedBy: "-linux-gnu").last?.drop(while: { $0 == "-" }) ?? ""
        let base = tool.split(separator: "-").first.map(String.init) ?? ""
        return toolchainBinaries.contains(base) || toolchainBinaries.contains(String(tool))
    }

    /// `gcc-12`, `clang-16`, `g++-12`.
    static func isVersionedCompiler(_ name: String) -> Bool {
        guard let dash = name.lastIndex(of: "-") else { return false }
        let base = String(name[..<dash])
        let version = name[name.index(after: dash)...]
        return ["gcc", "g++", "cpp", "clang", "clang++", "gfortran", "lld", "ld"].contains(base)
            && !version.isEmpty && version.allSatisfy { $0.isNumber || $0 == "." }
    }

    /// At most five leading components of a directory, to group scattered matches.
    static func topDirectory(_ dirParts: ArraySlice<String>) -> String {
        "/" + dirParts.prefix(5).joined(separator: "/")
    }
}
