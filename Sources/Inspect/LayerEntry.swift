import OCI

/// What kind of filesystem object a layer entry describes (the tar type flag, simplified).
public enum EntryKind: String, Sendable, Codable, Hashable {
    case file, directory, symlink, hardlink, charDevice, blockDevice, fifo, other
}

/// One entry of a layer tarball, as the analysis needs it. Sources (docker archives, OCI
/// layouts, the store) turn their tar headers into these; the analysis never touches bytes.
public struct LayerEntry: Sendable, Hashable, Codable {
    /// The path as it appeared in the tar, normalised by `LayerEntry.normalize` (no leading
    /// `/` or `./`, no `.` components), e.g. `usr/bin/gcc`. Whiteouts keep their `.wh.` name.
    public var path: String
    public var kind: EntryKind
    /// The size recorded in the tar header (0 for directories, links and whiteouts).
    public var size: Int64
    /// Permission and special bits (the low 12 bits of the tar mode).
    public var mode: UInt32
    public var uid: Int
    public var gid: Int
    public var linkTarget: String
    /// A hash of the content (0 for directories). Used only to tell "modified" from "unchanged".
    public var contentHash: UInt64
    /// For executable regular files: what the first bytes say (static or dynamic ELF, script).
    public var executable: ExecutableFormat?

    public init(path: String, kind: EntryKind, size: Int64 = 0, mode: UInt32 = 0o644, uid: Int = 0,
                gid: Int = 0, linkTarget: String = "", contentHash: UInt64 = 0, executable: ExecutableFormat? = nil) {
        self.path = LayerEntry.normalize(path)
        self.kind = kind
        self.size = size
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.linkTarget = linkTarget
        self.contentHash = contentHash
        self.executable = executable
    }

    static let whiteoutPrefix = ".wh."
    static let opaqueMarker = ".wh..wh..opq"

    /// The last path component.
    public var name: Substring {
        if let slash = path.lastIndex(of: "/") { return path[path.index(after: slash)...] }
        return path[...]
    }

    /// The directory holding this entry ("" for the root).
    public var parent: String {
        if let slash = path.lastIndex(of: "/") { return String(path[..<slash]) }
        return ""
    }

    /// `.wh..wh..opq`: everything below the parent directory from lower layers is hidden.
    public var isOpaqueMarker: Bool { name == LayerEntry.opaqueMarker }

    /// `.wh.NAME`: NAME (and everything below it) from lower layers is deleted.
    public var isWhiteout: Bool { name.hasPrefix(LayerEntry.whiteoutPrefix) && !name.hasPrefix(".wh..wh.") }

    /// The path a whiteout deletes, or nil when this is not a whiteout.
    public var whiteoutTarget: String? {
        guard isWhiteout else { return nil }
        let target = name.dropFirst(LayerEntry.whiteoutPrefix.count)
        return parent.isEmpty ? String(target) : parent + "/" + target
    }

    /// Cleans a tar path the way Go's `path.Clean` does for the relative names in layers:
    /// drops empty and `.` components and the leading `/`, resolves `..` lexically.
    public static func normalize(_ raw: String) -> String {
        var parts: [Substring] = []
        for part in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }
}

/// One layer of an image: its entries in tar order plus what the image config says about it.
public struct LayerInput: Sendable {
    /// The layer's digest (diff ID or blob digest) for display; may be empty.
    public var digest: String
    /// The history `created_by` of the step that made this layer ("" when unknown).
    public var command: String
    /// Size of the blob as stored/transferred (compressed), when known.
    public var blobSize: Int64?
    public var entries: [LayerEntry]
    /// Contents of the few small files the analysis reads (package databases), keyed by
    /// normalised path. Sources fill this for paths in `ImageInput.capturedPaths`.
    public var captured: [String: [UInt8]]

    public init(digest: String = "", command: String = "", blobSize: Int64? = nil,
                entries: [LayerEntry], captured: [String: [UInt8]] = [:]) {
        self.digest = digest
        self.command = command
        self.blobSize = blobSize
        self.entries = entries
        self.captured = captured
    }

    /// dive's layer size: the sum of the sizes in the layer's tar headers.
    public var size: Int64 { entries.reduce(0) { $0 + $1.size } }
}

/// A whole image as the analysis sees it: its layers bottom-up and a few config facts.
public struct ImageInput: Sendable {
    public var name: String
    public var layers: [LayerInput]
    /// The config's `User` ("" means root).
    public var user: String
    public var os: String
    public var architecture: String
    /// The config's Entrypoint and Cmd, WorkingDir and PATH: to find the program the image runs.
    public var entrypoint: [String]
    public var cmd: [String]
    public var workingDir: String
    public var path: String
    /// The whole image config as the source stored it (nil for images built in memory): for
    /// readers that need more than the facts above, such as the differential tests' config and
    /// history comparison.
    public var config: ImageConfig?

    public init(name: String, layers: [LayerInput], user: String = "", os: String = "linux",
                architecture: String = "", entrypoint: [String] = [], cmd: [String] = [], workingDir: String = "",
                path: String = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") {
        self.name = name
        self.layers = layers
        self.user = user
        self.os = os
        self.architecture = architecture
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.workingDir = workingDir
        self.path = path
        self.config = nil
    }

    /// Files whose content sources should capture (see `LayerInput.captured`): the dpkg and
    /// apk databases, used by `compare` to list OS packages.
    public static let capturedPaths: Set<String> = ["var/lib/dpkg/status", "lib/apk/db/installed"]

    /// Whether a source should capture `path` (normalised): the package databases, apt's
    /// auto-installed marks, dpkg's
    /// per-package file lists (which files a build-only package owns), and npm lockfiles outside
    /// node_modules (they say which installed packages are devDependencies).
    public static func shouldCapture(_ path: String) -> Bool {
        if capturedPaths.contains(path) || path == BuildPackages.extendedStatesPath || BuildPackages.isListFile(path) {
            return true
        }
        return (path == "package-lock.json" || path.hasSuffix("/package-lock.json")) && !path.contains("node_modules/")
    }
}
