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
        return ImageAnalysis(
            image: image.name, os: image.os, architecture: image.architecture, user: image.user,
            layers: layers, efficiency: Efficiency.compute(layers: image.layers),
            finalSize: files.reduce(0) { $0 + ($1.kind == .file ? $1.size : 0) },
            fileCount: files.count,
            buildOnly: buildOnly(files))
    }

    /// The merged final filesystem of an image.
    public static func finalFilesystem(_ image: ImageInput) -> [FileRecord] {
        let filesystem = Filesystem()
        for (index, layer) in image.layers.enumerated() { filesystem.apply(layer.entries, layer: index) }
        return filesystem.files()
    }

    /// Classifies the regular files of a final filesystem.
    public static func buildOnly(_ files: [FileRecord]) -> BuildOnlyReport {
        var perClass: [BuildOnlyClass: (tally: Tally, dirs: [String: Tally])] = [:]
        var total = Tally()
        var finalBytes: Int64 = 0
        for file in files where file.kind == .file {
            finalBytes += file.size
            guard let (kind, directory) = BuildOnlyClassifier.classify(path: file.path) else { continue }
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
