import Foundation

/// One layer of an analysed image.
public struct LayerReport: Sendable, Codable, Hashable {
    public var index: Int
    public var digest: String
    public var command: String
    /// dive's layer size (Σ tar header sizes).
    public var size: Int64
    public var blobSize: Int64?
    public var changes: LayerChanges
}

/// A directory and the bytes attributed to it.
public struct DirectoryBytes: Sendable, Codable, Hashable {
    public var path: String
    public var bytes: Int64
    public var files: Int
}

/// The build-only share of one class.
public struct BuildOnlyClassReport: Sendable, Codable, Hashable {
    public var kind: BuildOnlyClass
    public var title: String
    public var bytes: Int64
    public var files: Int
    /// Largest directories first (at most five).
    public var topDirectories: [DirectoryBytes]
}

/// The image runs a statically linked program: a `FROM scratch` final stage holding just it
/// (and the CA bundle and user database, when present) would do.
public struct StaticProgramEstimate: Sendable, Codable, Hashable {
    /// The program the image runs, resolved through PATH and symlinks.
    public var program: String
    public var programBytes: Int64
    /// What a scratch stage would keep: the program, CA certificates, /etc/passwd and /etc/group.
    public var keptBytes: Int64
    /// Everything else in the final filesystem.
    public var droppedBytes: Int64
}

/// How much of the final filesystem only the build needed.
public struct BuildOnlyReport: Sendable, Codable, Hashable {
    /// Bytes of the build-only files.
    public var bytes: Int64
    public var files: Int
    /// Bytes of all files in the final filesystem.
    public var finalBytes: Int64
    /// `bytes / finalBytes` (0…1).
    public var fraction: Double
    /// Largest class first; classes with no files are left out.
    public var classes: [BuildOnlyClassReport]
    /// Set when the entrypoint is a static binary.
    public var staticProgram: StaticProgramEstimate?
    /// Bytes the layers above the first (the base's root filesystem) wrote that the final
    /// filesystem no longer shows (overwritten or deleted): a final stage that only copies
    /// artifacts does not carry them. What later layers hide of the first layer stays: a final
    /// stage keeps its base layer whole (e.g. apt's caches a later `apt-get` deletes).
    public var hiddenBytes: Int64 = 0
    /// What a multi-stage rewrite would save: the build-only bytes (or, for a static program,
    /// everything a scratch stage would not keep) plus the hidden bytes.
    public var predictedSaving: Int64 = 0
    /// `predictedSaving / layer bytes` (0…1).
    public var predictedFraction: Double = 0
}

/// Everything `slipway analyze` reports about an image.
public struct ImageAnalysis: Sendable, Codable, Hashable {
    public var image: String
    public var os: String
    public var architecture: String
    public var user: String
    public var layers: [LayerReport]
    public var efficiency: EfficiencyReport
    /// Bytes of the regular files in the final filesystem.
    public var finalSize: Int64
    /// Objects (files, links, directories…) in the final filesystem.
    public var fileCount: Int
    public var buildOnly: BuildOnlyReport
}

public enum Analyzer {
    /// Analyses an image: dive's figures, per-layer changes and the build-only breakdown.
    public static func analyze(_ image: ImageInput) -> ImageAnalysis {
        let filesystem = Filesystem()
        var layers: [LayerReport] = []
        for (index, layer) in image.layers.enumerated() {
            let changes = filesystem.apply(layer.entries, layer: index)
            layers.append(LayerReport(index: index, digest: layer.digest, command: layer.command,
                                      size: layer.size, blobSize: layer.blobSize, changes: changes))
        }
        let files = filesystem.files()
        let efficiency = Efficiency.compute(layers: image.layers)
        let finalSize = files.reduce(0) { $0 + ($1.kind == .file ? $1.size : 0) }
        let devDirectories = NpmLockfile.devDirectories(image, finalPaths: Set(files.map(\.path)))
        let packagePaths = BuildPackages.paths(image, finalPaths: Set(files.map(\.path)))
        var report = buildOnly(files, devDirectories: devDirectories, buildPackagePaths: packagePaths)
        report.staticProgram = staticProgram(image, files)
        report.hiddenBytes = hiddenAboveBase(image, files)
        report.predictedSaving = (report.staticProgram.map { max($0.droppedBytes, report.bytes) } ?? report.bytes)
            + report.hiddenBytes
        report.predictedFraction = efficiency.sizeBytes == 0 ? 0
            : Double(report.predictedSaving) / Double(efficiency.sizeBytes)
        return ImageAnalysis(
            image: image.name, os: image.os, architecture: image.architecture, user: image.user,
            layers: layers, efficiency: efficiency, finalSize: finalSize, fileCount: files.count,
            buildOnly: report)
    }

    /// See `BuildOnlyReport.hiddenBytes`.
    static func hiddenAboveBase(_ image: ImageInput, _ files: [FileRecord]) -> Int64 {
        let written = image.layers.dropFirst().reduce(Int64(0)) { $0 + $1.size }
        let kept = files.reduce(Int64(0)) { $0 + ($1.kind == .file && $1.layer >= 1 ? $1.size : 0) }
        return max(0, written - kept)
    }

    /// Finds the program the image runs and, when it is a static ELF, what a scratch stage keeps.
    static func staticProgram(_ image: ImageInput, _ files: [FileRecord]) -> StaticProgramEstimate? {
        let argv = image.entrypoint.isEmpty ? image.cmd : image.entrypoint + image.cmd
        guard let first = argv.first, !first.isEmpty else { return nil }
        if ["/bin/sh", "sh", "/bin/bash", "bash"].contains(first), argv.dropFirst().first == "-c" { return nil }
        var byPath: [String: FileRecord] = [:]
        for file in files { byPath[file.path] = file }
        func resolve(_ start: String) -> FileRecord? {
            var path = start
            for _ in 0..<16 {
                guard let record = byPath[path] else { return nil }
                switch record.kind {
                case .symlink:
                    let target = record.linkTarget
                    let base = target.hasPrefix("/") ? "" : (path as NSString).deletingLastPathComponent
                    path = "/" + LayerEntry.normalize(base + "/" + target)
                case .hardlink:
                    path = "/" + LayerEntry.normalize(record.linkTarget)
                default:
                    return record
                }
            }
            return nil
        }
        var candidates: [String] = []
        if first.hasPrefix("/") {
            candidates = [first]
        } else if first.contains("/") {
            candidates = [(image.workingDir.isEmpty ? "/" : image.workingDir) + "/" + first]
        } else {
            candidates = image.path.split(separator: ":").map { $0 + "/" + first }
        }
        for candidate in candidates {
            let path = "/" + LayerEntry.normalize(candidate)
            guard let program = resolve(path), program.kind == .file else { continue }
            guard program.executable == .staticELF else { return nil }
            var kept = program.size
            for extra in ["/etc/ssl/certs/ca-certificates.crt", "/etc/passwd", "/etc/group"] {
                if let record = resolve(extra), record.kind == .file, record.path != program.path { kept += record.size }
            }
            let total = files.reduce(0) { $0 + ($1.kind == .file ? $1.size : 0) }
            return StaticProgramEstimate(program: path, programBytes: program.size, keptBytes: kept,
                                         droppedBytes: max(0, total - kept))
        }
        return nil
    }

    /// The merged final filesystem of an image.
    public static func finalFilesystem(_ image: ImageInput) -> [FileRecord] {
        let filesystem = Filesystem()
        for (index, layer) in image.layers.enumerated() { filesystem.apply(layer.entries, layer: index) }
        return filesystem.files()
    }

    /// Classifies the regular files of a final filesystem.
    /// `buildPackagePaths`: files owned by build-only OS packages (see `BuildPackages`), counted
    /// when no path rule already classifies them.
    public static func buildOnly(_ files: [FileRecord], devDirectories: [String] = [],
                                 buildPackagePaths: Set<String> = []) -> BuildOnlyReport {
        let devSet = Set(devDirectories)
        /// The dev package directory holding `path`, checked ancestor by ancestor.
        func devDirectory(_ path: String) -> String? {
            guard !devSet.isEmpty, path.contains("/node_modules/") else { return nil }
            var index = path.startIndex
            while let slash = path[path.index(after: index)...].firstIndex(of: "/") {
                let ancestor = String(path[..<slash])
                if devSet.contains(ancestor) { return ancestor }
                index = slash
            }
            return nil
        }
        var perClass: [BuildOnlyClass: (tally: Tally, dirs: [String: Tally])] = [:]
        var total = Tally()
        var finalBytes: Int64 = 0
        for file in files where file.kind == .file {
            finalBytes += file.size
            let dev = devDirectory(file.path).map { (BuildOnlyClass.devDependencies, $0) }
            let owned = buildPackagePaths.contains(file.path)
                ? (BuildOnlyClass.buildPackages, BuildOnlyClassifier.topDirectory(file.path.split(separator: "/").dropLast().map(String.init).prefix(3)))
                : nil
            guard let (kind, directory) = dev ?? BuildOnlyClassifier.classify(path: file.path) ?? owned else { continue }
            total.add(file.size)
            var entry = perClass[kind] ?? (Tally(), [:])
            entry.tally.add(file.size)
            entry.dirs[directory, default: Tally()].add(file.size)
            perClass[kind] = entry
        }
        let classes = perClass.map { kind, value in
            BuildOnlyClassReport(
                kind: kind, title: kind.title, bytes: value.tally.bytes, files: value.tally.files,
                topDirectories: value.dirs
                    .map { DirectoryBytes(path: $0.key, bytes: $0.value.bytes, files: $0.value.files) }
                    .sorted { ($0.bytes, $1.path) > ($1.bytes, $0.path) }
                    .prefix(5).map { $0 })
        }.sorted { ($0.bytes, $1.kind.rawValue) > ($1.bytes, $0.kind.rawValue) }
        return BuildOnlyReport(bytes: total.bytes, files: total.files, finalBytes: finalBytes,
                               fraction: finalBytes == 0 ? 0 : Double(total.bytes) / Double(finalBytes),
                               classes: classes)
    }
}
