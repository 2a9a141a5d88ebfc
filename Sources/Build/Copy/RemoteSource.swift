import Foundation
import HTTP
import OCI
import Synchronization
import System

/// A file ADD downloaded from a URL, waiting in a private temporary file.
public struct DownloadedFile: Sendable {
    public let url: String
    /// Temporary file holding the body; remove it with `discard()` when done.
    public let path: String
    /// sha256 of the body: the cache key's source digest for this URL.
    public let digest: Digest
    /// From the `Last-Modified` header, used as the file's mtime.
    public let lastModified: Date?
    /// The name taken from the URL path (`__unnamed__` when it has none, as BuildKit).
    public let fileName: String

    public func discard() { try? FileManager.default.removeItem(atPath: path) }
}

/// ADD from HTTP(S): download with the `HTTP` module's libcurl transport (the registry client's too) (so `SSL_CERT_FILE`
/// applies here too), verify `--checksum`, write with mode 0600.
public enum RemoteSource {
    /// Shared by every ADD of the process so keep-alive connections are reused. Creating it
    /// does not load libcurl; the first download does.
    private static let transport = HTTPTransport()

    /// An http(s) source that is downloaded as a file (not a git repository).
    public static func isURL(_ s: String) -> Bool {
        let l = s.lowercased()
        return (l.hasPrefix("http://") || l.hasPrefix("https://")) && GitRef.parse(s) == nil
    }

    /// A source that does not come from the context or a stage: a URL or a git repository.
    public static func isRemote(_ s: String) -> Bool { isURL(s) || GitRef.parse(s) != nil }

    /// Downloads `url` into a temporary file and checks it against `checksum`
    /// (`sha256:<hex>`). Throws `CopyError` (`.checksumMismatch`, `.download`).
    public static func download(_ url: String, spec: CopySpec) async throws -> DownloadedFile {
        var expected: Digest?
        if let c = spec.checksum, !c.isEmpty {
            guard let d = try? Digest(parsing: c), d.algorithm == "sha256" else {
                throw spec.error(.invalidOption("invalid --checksum \"\(c)\": expected sha256:<64 hex digits>"))
            }
            expected = d
        }
        guard let u = URL(string: url), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw spec.error(.download(url: url, message: "not a valid http(s) URL"))
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-url-\(UUID().uuidString)").path
        let response: HTTPResponse
        do {
            response = try await transport.download(HTTPRequest(url: u, headers: ["User-Agent": "slipway/0.1"]), to: path)
        } catch let error as CancellationError {
            throw error
        } catch HTTPError.transport(let detail, _), HTTPError.tls(let detail, _) {
            throw spec.error(.download(url: url, message: detail))
        } catch {
            throw spec.error(.download(url: url, message: "\(error)"))
        }
        guard (200..<300).contains(response.status) else {
            throw spec.error(.download(url: url, message: "server answered HTTP \(response.status)"))
        }
        let digest: Digest
        do {
            let ctx = try BuildContext(stageRootfs: (path as NSString).deletingLastPathComponent)
            guard let st = try FileStat.lstat(path) else { throw ContextError.io(FileSystemError(operation: "stat", path: path, errno: ENOENT)) }
            digest = Digest(algorithm: "sha256", encoded: try ctx.fileDigest(path, st))
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw spec.error(.download(url: url, message: "\(error)"))
        }
        if let expected, expected != digest {
            try? FileManager.default.removeItem(atPath: path)
            throw spec.error(.checksumMismatch(url: url, expected: expected.description, actual: digest.description))
        }
        var lastModified: Date?
        if let lm = response.header("Last-Modified") {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "GMT")
            f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            lastModified = f.date(from: lm)
        }
        let base = (u.path as NSString).lastPathComponent
        let name = (base.isEmpty || base == "/" || base == ".") ? "__unnamed__" : base
        return DownloadedFile(url: url, path: path, digest: digest, lastModified: lastModified, fileName: name)
    }
}

extension Copier {
    /// Places a downloaded file: into the destination directory under its URL name when the
    /// destination ends with `/` (or is an existing directory), else as the destination file.
    /// Mode 0600 unless --chmod, owner root unless --chown, mtime from Last-Modified.
    /// With `ADD --unpack=true` an archive is extracted instead.
    @discardableResult
    public static func place(_ file: DownloadedFile, spec: CopySpec, into target: String) throws -> CopyReport {
        let root: String
        do { root = try ScopedPath.canonicalDirectory(target) } catch { throw spec.error(.io("\(error)")) }
        let (owner, mode) = try options(spec, target: root)
        let (dest, destIsDir) = spec.resolvedDestination
        var report = CopyReport()
        if spec.unpack == true && ArchiveUnpacker.isArchive(file.path) {
            try ArchiveUnpacker.unpack(file.path, spec: spec, into: root, destination: dest, owner: owner)
            report.archivesUnpacked = 1
            return report
        }
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-url-\(UUID().uuidString)").path
        guard mkdir(staging, 0o700) == 0 else { throw spec.error(.io("cannot create a staging directory")) }
        defer { try? FileManager.default.removeItem(atPath: staging) }
        let staged = FileSystem.join(staging, file.fileName)
        do { try FileManager.default.copyItem(atPath: file.path, toPath: staged) } catch {
            throw spec.error(.io("cannot stage \(file.url): \(error)"))
        }
        chmod(staged, 0o600)
        if let lm = file.lastModified {
            let t = timespec(tv_sec: Int(lm.timeIntervalSince1970), tv_nsec: 0)
            var times = [t, t]
            utimensat(AT_FDCWD, staged, &times, 0)
        }
        let ctx: BuildContext
        do { ctx = try BuildContext(stageRootfs: staging) } catch { throw spec.error(.io("\(error)")) }
        guard let src = try ctx.lookup(file.fileName) else { throw spec.error(.io("staged download vanished")) }
        // Downloads belong to root unless --chown, like context files.
        let writer = TreeWriter(root: root, spec: spec, source: ctx, owner: owner ?? Ownership(uid: 0, gid: 0),
                                mode: mode, excludes: nil)
        try writer.mkdirAll(destIsDir ? dest : parentPath(dest))
        try writer.copyTop(src, destination: dest)
        report.entries = writer.count
        return report
    }
}

extension Copier {
    /// The source digest for a COPY/ADD cache key including ADD URLs: each URL is downloaded
    /// once per build (kept by `source` for the copy that follows) and contributes its
    /// content digest, so a changed remote file invalidates the step. Throws `CopyError`.
    public static func digest(_ spec: CopySpec, from source: BuildContext) async throws -> Digest {
        // Hashing the context and cloning run on their own threads, off the cooperative pool.
        let local = try await runOffPool { try sourceDigest(spec, from: source) }
        let remotes = spec.sources.filter(RemoteSource.isRemote)
        if remotes.isEmpty { return local }
        var parts = [local.description]
        for src in remotes {
            if let ref = GitRef.parse(src) {
                let co = try await runOffPool { try fetchGit(ref, spec: spec, source: source) }
                parts.append("git\u{0}\(src)\u{0}\(co.commit)\u{0}\(spec.keepGitDir == true)")
            } else {
                parts.append(src + "\u{0}" + (try await fetch(src, spec: spec, source: source)).digest.description)
            }
        }
        return Digest.sha256(parts.joined(separator: "\n"))
    }

    /// Performs the whole instruction: local sources (as `copy`), then each ADD URL
    /// (downloaded once per build, verified against --checksum, placed with mode 0600).
    /// Throws `CopyError`.
    @discardableResult
    public static func perform(_ spec: CopySpec, from source: BuildContext, into target: String) async throws -> CopyReport {
        try validate(spec)
        let remotes = spec.sources.filter(RemoteSource.isRemote)
        if let first = remotes.first, !spec.isAdd {
            throw spec.error(.invalidOption(GitRef.parse(first) != nil
                ? "source can't be a git ref for COPY; use ADD" : "source can't be a URL for COPY; use ADD"))
        }
        let urls = remotes.filter(RemoteSource.isURL)
        if urls.count > 1 || (!urls.isEmpty && urls.count != spec.sources.count) {
            let (_, isDir) = spec.resolvedDestination
            if !isDir { throw spec.error(.destinationNotDirectory(destination: spec.destination)) }
        }
        var report = CopyReport()
        var local = spec
        local.sources = spec.sources.filter { !RemoteSource.isRemote($0) }
        if !local.sources.isEmpty {
            let localSpec = local
            report = try await runOffPool { try copy(localSpec, from: source, into: target) }
        }
        for src in remotes {
            let r: CopyReport
            if let ref = GitRef.parse(src) {
                // `git clone` waits on the network and on a child process: keep it off the pool.
                r = try await runOffPool { try placeGit(try fetchGit(ref, spec: spec, source: source), spec: spec, into: target) }
            } else {
                let file = try await fetch(src, spec: spec, source: source)
                r = try await runOffPool { try place(file, spec: spec, into: target) }
            }
            report.entries += r.entries
            report.archivesUnpacked += r.archivesUnpacked
        }
        return report
    }

    static func fetch(_ url: String, spec: CopySpec, source: BuildContext) async throws -> DownloadedFile {
        let key = url + "\u{0}" + (spec.checksum ?? "")
        if let f = source.downloads.withLock({ $0[key] }), FileManager.default.fileExists(atPath: f.path) { return f }
        let f = try await RemoteSource.download(url, spec: spec)
        let previous = source.downloads.withLock { d -> DownloadedFile? in
            let old = d[key]
            d[key] = f
            return old
        }
        previous?.discard()
        return f
    }
}

extension Copier {
    static func fetchGit(_ ref: GitRef, spec: CopySpec, source: BuildContext) throws -> GitCheckout {
        let key = "\(ref.remote)#\(ref.ref ?? ""):\(ref.subdir ?? "")\u{0}\(spec.keepGitDir == true)\u{0}\(spec.checksum ?? "")"
        if let c = source.gitCheckouts.withLock({ $0[key] }), FileManager.default.fileExists(atPath: c.root) { return c }
        let c = try GitSource.checkout(ref, spec: spec)
        let previous = source.gitCheckouts.withLock { d -> GitCheckout? in
            let old = d[key]
            d[key] = c
            return old
        }
        previous?.discard()
        return c
    }

    /// Copies a checkout's contents into the destination directory (BuildKit copies `/` of the
    /// git state), owned by root unless --chown, --chmod applied.
    static func placeGit(_ co: GitCheckout, spec: CopySpec, into target: String) throws -> CopyReport {
        let root: String
        do { root = try ScopedPath.canonicalDirectory(target) } catch { throw spec.error(.io("\(error)")) }
        let (owner, mode) = try options(spec, target: root)
        let ctx: BuildContext
        do { ctx = try BuildContext(stageRootfs: co.root) } catch { throw spec.error(.io("\(error)")) }
        guard let src = try ctx.lookup("") else { throw spec.error(.io("git checkout vanished")) }
        let writer = TreeWriter(root: root, spec: spec, source: ctx, owner: owner ?? Ownership(uid: 0, gid: 0),
                                mode: mode, excludes: try excludeSet(spec))
        let (dest, _) = spec.resolvedDestination
        try writer.mkdirAll(dest)
        try writer.copyTop(src, destination: dest)
        return CopyReport(entries: writer.count, archivesUnpacked: 0)
    }
}
