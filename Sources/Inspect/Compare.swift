import OCI

/// Size facts of one side of a comparison.
public struct ImageSummary: Sendable, Codable, Hashable {
    public var image: String
    /// Σ of the file sizes in the layer tars (dive's image size; close to what `docker images`
    /// shows, which also counts tar headers).
    public var size: Int64
    /// Σ of the compressed layer blobs, when known.
    public var compressedSize: Int64?
    /// Bytes of regular files in the final filesystem.
    public var filesystemSize: Int64
    public var layers: Int
    public var files: Int
    public var packageManager: String
    public var packages: Int
}

/// Changes under one directory between two images.
public struct DirectoryChange: Sendable, Codable, Hashable {
    public var path: String
    public var added = Tally()
    public var removed = Tally()
    public var changed = Tally()
    /// Net size change (b − a) in bytes.
    public var delta: Int64 = 0
}

/// A package whose presence or version differs.
public struct PackageChange: Sendable, Codable, Hashable {
    public var name: String
    public var from: String?
    public var to: String?
}

/// `slipway compare A B`: the article's "1.2 GB → 150 MB" table, computed.
public struct ImageComparison: Sendable, Codable, Hashable {
    public var a: ImageSummary
    public var b: ImageSummary
    /// (a.size − b.size) / a.size, in percent (negative when B is larger).
    public var reductionPercent: Double
    public var added = Tally()
    public var removed = Tally()
    public var changed = Tally()
    /// Directories with the largest changes first.
    public var directories: [DirectoryChange] = []
    public var packagesAdded: [PackageChange] = []
    public var packagesRemoved: [PackageChange] = []
    public var packagesChanged: [PackageChange] = []
}

public enum Comparer {
    public static func compare(_ a: ImageInput, _ b: ImageInput, directoryLimit: Int = 15) -> ImageComparison {
        let filesA = Analyzer.finalFilesystem(a)
        let filesB = Analyzer.finalFilesystem(b)
        let packagesA = PackageSet.of(a, finalPaths: Set(filesA.map(\.path)))
        let packagesB = PackageSet.of(b, finalPaths: Set(filesB.map(\.path)))
        func summary(_ image: ImageInput, _ files: [FileRecord], _ packages: PackageSet) -> ImageSummary {
            let blobs = image.layers.compactMap(\.blobSize)
            return ImageSummary(
                image: image.name, size: image.layers.reduce(0) { $0 + $1.size },
                compressedSize: blobs.count == image.layers.count ? blobs.reduce(0, +) : nil,
                filesystemSize: files.reduce(0) { $0 + ($1.kind == .file ? $1.size : 0) },
                layers: image.layers.count, files: files.filter { $0.kind != .directory }.count,
                packageManager: packages.manager, packages: packages.versions.count)
        }
        let sa = summary(a, filesA, packagesA)
        let sb = summary(b, filesB, packagesB)
        var result = ImageComparison(a: sa, b: sb,
                                     reductionPercent: sa.size == 0 ? 0 : Double(sa.size - sb.size) / Double(sa.size) * 100)

        var byPath: [String: FileRecord] = [:]
        for file in filesA where file.kind != .directory { byPath[file.path] = file }
        var directories: [String: DirectoryChange] = [:]
        func bucket(_ path: String) -> String {
            let parts = path.split(separator: "/")
            let depth = ["usr", "var", "opt"].contains(parts.first.map(String.init) ?? "") ? 3 : 2
            return "/" + parts.dropLast().prefix(depth).joined(separator: "/")
        }
        for file in filesB where file.kind != .directory {
            let key = bucket(file.path)
            var change = directories[key] ?? DirectoryChange(path: key)
            if let old = byPath.removeValue(forKey: file.path) {
                if old.kind != file.kind || old.contentHash != file.contentHash || old.size != file.size
                    || old.mode != file.mode || old.linkTarget != file.linkTarget {
                    change.changed.add(file.size)
                    change.delta += file.size - old.size
                    result.changed.add(file.size)
                }
            } else {
                change.added.add(file.size)
                change.delta += file.size
                result.added.add(file.size)
            }
            directories[key] = change
        }
        for file in byPath.values {
            let key = bucket(file.path)
            var change = directories[key] ?? DirectoryChange(path: key)
            change.removed.add(file.size)
            change.delta -= file.size
            result.removed.add(file.size)
            directories[key] = change
        }
        result.directories = directories.values
            .filter { $0.added.files + $0.removed.files + $0.changed.files > 0 }
            .sorted { (abs($0.delta), $1.path) > (abs($1.delta), $0.path) }
            .prefix(directoryLimit).map { $0 }

        for (name, version) in packagesB.versions {
            if let old = packagesA.versions[name] {
                if old != version { result.packagesChanged.append(PackageChange(name: name, from: old, to: version)) }
            } else {
                result.packagesAdded.append(PackageChange(name: name, from: nil, to: version))
            }
        }
        for (name, version) in packagesA.versions where packagesB.versions[name] == nil {
            result.packagesRemoved.append(PackageChange(name: name, from: version, to: nil))
        }
        result.packagesAdded.sort { $0.name < $1.name }
        result.packagesRemoved.sort { $0.name < $1.name }
        result.packagesChanged.sort { $0.name < $1.name }
        return result
    }
}

extension ImageComparison {
    public func renderText(packageLimit: Int = 30) -> String {
        func row(_ label: String, _ x: String, _ y: String) -> String {
            "  " + pad(label, 22) + " " + pad(x, 18) + " " + y + "\n"
        }
        var out = "Comparing \(a.image) → \(b.image)\n\n"
        out += row("", "A", "B")
        out += row("size", ByteFormat.human(a.size), ByteFormat.human(b.size))
        if let ca = a.compressedSize, let cb = b.compressedSize {
            out += row("compressed", ByteFormat.human(ca), ByteFormat.human(cb))
        }
        out += row("filesystem", ByteFormat.human(a.filesystemSize), ByteFormat.human(b.filesystemSize))
        out += row("layers", "\(a.layers)", "\(b.layers)")
        out += row("files", "\(a.files)", "\(b.files)")
        out += row("packages", a.packageManager.isEmpty ? "-" : "\(a.packages) (\(a.packageManager))",
                   b.packageManager.isEmpty ? "-" : "\(b.packages) (\(b.packageManager))")
        let verb = reductionPercent >= 0 ? "smaller" : "larger"
        out += "\n  \(ByteFormat.human(a.size)) → \(ByteFormat.human(b.size)): B is "
            + "\(String(format: "%.1f", abs(reductionPercent))) % \(verb)\n"
        out += "\nFiles: +\(added.files) (\(ByteFormat.human(added.bytes)))  -\(removed.files) "
            + "(\(ByteFormat.human(removed.bytes)))  ~\(changed.files) (\(ByteFormat.human(changed.bytes)))\n"
        if !directories.isEmpty {
            out += "\nBy directory (largest net change first):\n"
            for dir in directories {
                let sign = dir.delta >= 0 ? "+" : "-"
                out += "  " + pad(sign + ByteFormat.human(abs(dir.delta)), 11) + " " + pad(DisplayText.escaped(dir.path), 40)
                    + " +\(dir.added.files) -\(dir.removed.files) ~\(dir.changed.files)\n"
            }
        }
        func list(_ title: String, _ items: [PackageChange], _ text: (PackageChange) -> String) {
            guard !items.isEmpty else { return }
            out += "\n\(title) (\(items.count)):\n"
            for item in items.prefix(packageLimit) { out += "  " + DisplayText.escaped(text(item)) + "\n" }
            if items.count > packageLimit { out += "  … and \(items.count - packageLimit) more\n" }
        }
        list("Packages removed", packagesRemoved) { "\($0.name) \($0.from ?? "")" }
        list("Packages added", packagesAdded) { "\($0.name) \($0.to ?? "")" }
        list("Packages changed", packagesChanged) { "\($0.name) \($0.from ?? "") → \($0.to ?? "")" }
        return out
    }
}
