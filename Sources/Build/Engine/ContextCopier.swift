import Foundation
import OCI
import Synchronization
import System

/// COPY/ADD through the copy module: the build context and every named local context
/// (`--build-context NAME=DIR`) are opened once per build (their file digests are memoised
/// across steps), stage and image roots are opened per step.
public final class ContextCopier: FileCopier {
    let context: BuildContext
    let dockerfile: String
    /// Where this context's file digests are kept between builds (nil: not kept).
    public let memoFile: String?
    /// Named local contexts opened so far, by canonical path (each with its own .dockerignore).
    let named = Mutex<[String: BuildContext]>([:])
    /// Where every local context's digest memo lives (nil: not kept between builds).
    let memoDirectory: String?

    /// Opens the context at `directory` through BuildKit's ignore file: `<Dockerfile>.dockerignore`
    /// beside the Dockerfile at `dockerfilePath` (nil for a Dockerfile read from stdin) wins over
    /// the context's `.dockerignore`, with moby/patternmatcher semantics (`BuildContext.forBuild`),
    /// the matcher `slipway debug context` uses too. With `memoDirectory`
    /// (the store's `context-memo`), file digests computed by the last successful build of the
    /// same context are reused while a file's inode, size, mtime and ctime are unchanged, so a
    /// no-change rebuild stats the sources but reads none of them.
    public init(contextDirectory: String, dockerfile: String, dockerfilePath: String? = nil,
                memoDirectory: String? = nil) throws {
        let context = try BuildContext.forBuild(contextDirectory: contextDirectory, dockerfilePath: dockerfilePath)
        let memoFile = memoDirectory.map { Self.memoFile(in: $0, contextRoot: context.root) }
        if let memoFile { context.loadDigestMemo(from: memoFile) }
        self.context = context
        self.dockerfile = dockerfile
        self.memoFile = memoFile
        self.memoDirectory = memoDirectory
    }

    /// One memo per context directory: named by the sha256 of its canonical absolute path.
    public static func memoFile(in directory: String, contextRoot: String) -> String {
        directory + "/" + Digest.sha256(contextRoot).encoded
    }

    /// Saves the file digests of the context and of the named contexts used for the next
    /// build (atomically; off the pool).
    public func finishBuild() async throws {
        guard let memoFile, let directory = memoDirectory else { return }
        let memos = [(context, memoFile)]
            + named.withLock { $0 }.map { path, ctx in (ctx, Self.memoFile(in: directory, contextRoot: path)) }
        try await runOffPool {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for (ctx, file) in memos { try ctx.saveDigestMemo(to: file) }
        }
    }

    func spec(_ copy: CopyStep, workdir: String) -> CopySpec {
        var s = copy.spec
        s.workdir = workdir
        s.dockerfile = dockerfile
        return s
    }

    func source(_ from: CopySourceRoot) throws -> BuildContext {
        switch from {
        case .context(let dir): return try localContext(dir)
        case .rootfs(let dir): return try BuildContext(stageRootfs: dir)
        }
    }

    /// The local context at `directory`: the build's own context, or a named one opened on
    /// first use through its `.dockerignore` (`BuildContext.named`) and kept for the build.
    public func localContext(_ directory: String) throws -> BuildContext {
        let path = try ScopedPath.canonicalDirectory(directory)
        if path == context.root { return context }
        if let open = named.withLock({ $0[path] }) { return open }
        let opened = try BuildContext.named(directory: path)
        if let memoDirectory { opened.loadDigestMemo(from: Self.memoFile(in: memoDirectory, contextRoot: path)) }
        return named.withLock { cache in
            if let raced = cache[path] { return raced }
            cache[path] = opened
            return opened
        }
    }

    /// The digest of what the sources select (heredoc files are keyed by `CacheKey` itself).
    public func sourceDigest(_ copy: CopyStep, from: CopySourceRoot) async throws -> Digest {
        try await Copier.digest(spec(copy, workdir: "/"), from: source(from))
    }

    public func sourceListing(_ copy: CopyStep, from: CopySourceRoot) async throws -> SelectionListing? {
        let (s, ctx) = (spec(copy, workdir: "/"), try source(from))
        return try await runOffPool { try Copier.sourceListing(s, from: ctx) }
    }

    public func copy(_ copy: CopyStep, from: CopySourceRoot, into root: String, workdir: String) async throws {
        let s = spec(copy, workdir: workdir)
        if !s.sources.isEmpty { try await Copier.perform(s, from: source(from), into: root) }
        if !copy.heredocs.isEmpty {
            // File writes (and chown lookups in the root's /etc/passwd): off the cooperative pool.
            let docs = copy.heredocs
            _ = try await runOffPool { try Copier.writeHeredocs(docs, spec: s, into: root) }
        }
    }
}
