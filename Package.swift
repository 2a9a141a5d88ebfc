// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "slipway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "slipway", targets: ["slipway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // C libraries from Debian's -dev packages, through module maps.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CLinux"),
        // Typed wrappers for SQLite's variadic sqlite3_db_config (libsqlite3-dev, as GRDB uses).
        .systemLibrary(name: "CSQLiteConfig", providers: [.apt(["libsqlite3-dev"])]),
        // libcurl through dlopen on first use (compiled against libcurl4-openssl-dev, not linked).
        .target(name: "CCurl"),

        // The one system layer: POSIX file helpers, SystemError, child processes, runOffPool.
        .target(name: "System", dependencies: ["CLinux"]),
        // Pure Dockerfile frontend: lexer, parser, expansion, instructions, stage graph, ignore rules.
        .target(name: "Dockerfile"),
        // Image model, content store, layer archives.
        .target(name: "OCI", dependencies: [
            "System", "CZlib", "CZstd", "CCrypto", "CLinux", "CSQLiteConfig",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // HTTP over libcurl: requests, streamed bodies, TLS trust, timeouts (registry API, ADD <url>).
        .target(name: "HTTP", dependencies: ["System", "OCI", "CCurl"]),
        // OCI distribution client.
        .target(name: "Registry", dependencies: ["System", "OCI", "HTTP"]),
        // Build engine: context, cache keys, snapshots, RUN executor, scheduler.
        .target(name: "Build", dependencies: ["System", "Dockerfile", "OCI", "HTTP", "CLinux"]),
        // History, analysis, compare, lint.
        .target(name: "Inspect", dependencies: ["System", "Dockerfile", "OCI"]),
        // Go's text/template subset for --format (docker's functions, table headers).
        .target(name: "Template"),
        // The command-line tool.
        .executableTarget(name: "slipway", dependencies: [
            "System", "Dockerfile", "OCI", "HTTP", "Registry", "Build", "Inspect", "Template",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], linkerSettings: [
            // Release binaries start in a few milliseconds instead of ~10: the Swift runtime and
            // Foundation linked in (no dynamic loading of ~20 libraries), and a fixed-address
            // executable (no ~90k relocations to apply at every start). See scripts/bench-build.sh.
            .unsafeFlags([
                "-static-stdlib", "-Xlinker", "--start-group", "-lFoundation", "-lCoreFoundation", "-lFoundationEssentials", "-lFoundationInternationalization", "-l_FoundationICU", "-l_FoundationCShims", "-l_FoundationCollections", "-lswiftDispatch", "-ldispatch", "-lBlocksRuntime", "-lswiftSynchronization", "-lswift_RegexParser", "-lswift_StringProcessing", "-lswift_Concurrency", "-lswiftCore", "-lswiftGlibc", "-lstdc++", "-lm", "-Xlinker", "--end-group", "-Xclang-linker", "-no-pie",
            ], .when(configuration: .release)),
        ]),
        // Benchmark driver for scripts/bench-layers.sh (layer write/read speed and memory).
        .executableTarget(name: "slipway-bench", dependencies: ["OCI"], path: "Benchmarks/slipway-bench"),

        // Parser benchmark (scripts/bench-parser.sh builds it in release mode).
        .executableTarget(name: "parser-bench", dependencies: ["Dockerfile"], path: "Benchmarks/ParserBench"),

        .testTarget(name: "SystemTests", dependencies: ["System", "TestSupport"]),
        .testTarget(name: "DockerfileTests", dependencies: ["Dockerfile", "TestSupport"]),
        .testTarget(name: "OCITests", dependencies: ["OCI", "System", "TestSupport"]),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "HTTP", "OCI", "TestSupport"]),
        .testTarget(name: "BuildTests", dependencies: ["Build", "System", "Dockerfile", "OCI", "TestSupport"]),
        .testTarget(name: "TemplateTests", dependencies: ["Template"]),
        .testTarget(name: "InspectTests", dependencies: ["Inspect", "Dockerfile", "OCI", "TestSupport"]),
        // Drive the built `slipway` binary end to end (needs root, runc, a registry).
        .testTarget(name: "IntegrationTests", dependencies: ["OCI", "TestSupport"]),
        // Builds Tests/DifferentialTests/Cases with Slipway and with dockerd's BuildKit and compares the
        // images (needs root and docker.io); the case files and the rules are data, not sources.
        .testTarget(name: "DifferentialTests", dependencies: ["Inspect", "OCI", "TestSupport"],
                    exclude: ["Cases", "Examples", "IntendedDifferences.json", "Support/dockerd-session.sh"]),
        // Shared by the test targets above: the article's Dockerfiles, waiting off the cooperative pool.
        .target(name: "TestSupport", dependencies: ["System"], path: "Tests/TestSupport"),
    ],
    swiftLanguageModes: [.v6]
)
