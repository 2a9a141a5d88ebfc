/// One COPY or ADD instruction after the parser expanded its arguments.
public struct CopySpec: Sendable, Hashable {
    /// Sources as written (context-relative, or absolute within the `--from` root); for ADD
    /// also URLs.
    public var sources: [String]
    /// Destination as written; a trailing `/` makes it a directory.
    public var destination: String
    /// The stage's WORKDIR, for relative destinations.
    public var workdir: String
    public var chown: String?
    public var chmod: String?
    public var excludes: [String]
    public var parents: Bool
    public var link: Bool
    public var isAdd: Bool
    /// ADD --unpack; nil means BuildKit's default (local archives unpacked, URLs not).
    public var unpack: Bool?
    /// ADD --checksum (for URLs).
    public var checksum: String?
    public var line: Int
    public var dockerfile: String
    /// ADD --keep-git-dir (git sources).
    public var keepGitDir: Bool?

    public init(sources: [String], destination: String, workdir: String = "/", chown: String? = nil,
                chmod: String? = nil, excludes: [String] = [], parents: Bool = false, link: Bool = false,
                isAdd: Bool = false, unpack: Bool? = nil, checksum: String? = nil,
                line: Int = 0, dockerfile: String = "Dockerfile", keepGitDir: Bool? = nil) {
        self.sources = sources
        self.destination = destination
        self.workdir = workdir
        self.chown = chown
        self.chmod = chmod
        self.excludes = excludes
        self.parents = parents
        self.link = link
        self.isAdd = isAdd
        self.unpack = unpack
        self.checksum = checksum
        self.line = line
        self.dockerfile = dockerfile
        self.keepGitDir = keepGitDir
    }

    public var instructionName: String { isAdd ? "ADD" : "COPY" }

    /// The destination as an absolute, cleaned path in the stage's filesystem, and whether it
    /// names a directory (trailing `/`, or `.`), as BuildKit's `pathRelativeToWorkingDir` does.
    public var resolvedDestination: (path: String, isDirectory: Bool) {
        var d = destination
        if d.isEmpty || d == "." { d = "./" }
        let isDir = d.hasSuffix("/") || d.hasSuffix("/.")
        let abs = d.hasPrefix("/") ? d : (workdir.hasSuffix("/") ? workdir : workdir + "/") + d
        return ("/" + ScopedPath.cleanComponents(abs).joined(separator: "/"), isDir)
    }

    func error(_ kind: CopyError.Kind) -> CopyError {
        CopyError(kind, instruction: instructionName, line: line, dockerfile: dockerfile)
    }
}
