import Foundation
import OCI
import System

/// A git source of `ADD` (`https://host/repo.git#ref:subdir`, `git@host:repo#ref`,
/// `git://…`, `ssh://…`), cloned with the system `git`.
public struct GitRef: Sendable, Hashable {
    public let remote: String
    public let ref: String?
    public let subdir: String?

    /// Recognises the forms BuildKit's dfgitutil accepts for ADD: scp-like `git@host:path`,
    /// `git://` and `ssh://` URLs, and http(s) URLs whose path ends in `.git`. The fragment
    /// is `ref[:subdir]`.
    public static func parse(_ s: String) -> GitRef? {
        var remote = s
        var fragment: String?
        if let hash = s.firstIndex(of: "#") {
            remote = String(s[..<hash])
            fragment = String(s[s.index(after: hash)...])
        }
        let lower = remote.lowercased()
        let isGit: Bool
        if lower.hasPrefix("git://") || lower.hasPrefix("ssh://") || lower.hasPrefix("git@") {
            isGit = true
        } else if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            let path = URL(string: remote)?.path ?? remote
            isGit = path.hasSuffix(".git")
        } else {
            isGit = false
        }
        guard isGit else { return nil }
        var ref: String?
        var subdir: String?
        if let f = fragment, !f.isEmpty {
            if let colon = f.firstIndex(of: ":") {
                ref = String(f[..<colon])
                subdir = String(f[f.index(after: colon)...])
            } else {
                ref = f
            }
            if ref?.isEmpty == true { ref = nil }
            if subdir?.isEmpty == true { subdir = nil }
        }
        return GitRef(remote: remote, ref: ref, subdir: subdir)
    }
}

/// A checkout made for one build, removed when its `BuildContext` goes away.
struct GitCheckout: Sendable {
    /// The temporary directory holding the clone.
    let directory: String
    /// The directory to copy from (the clone, or its subdir).
    let root: String
    let commit: String

    func discard() { try? FileSystem.removeTree(directory) }
}

enum GitSource {
    /// Clones `ref` into a private temporary directory, checks out the ref, verifies
    /// `--checksum` (a commit sha prefix), drops `.git` unless `--keep-git-dir`, and normalises
    /// permissions as BuildKit does (files 0644, or 0755 when executable; directories 0755).
    static func checkout(_ ref: GitRef, spec: CopySpec) throws -> GitCheckout {
        let shown = ref.remote
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/git") else {
            throw spec.error(.download(url: shown, message: "ADD from git needs the git binary (apt-get install git)"))
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-git-\(UUID().uuidString)").path
        guard mkdir(dir, 0o700) == 0 else { throw spec.error(.io("cannot create a directory for git")) }
        let repo = dir + "/repo"
        do {
            try git(["clone", "--quiet", "--no-checkout", ref.remote, repo], spec: spec, remote: shown)
            try git(["-C", repo, "-c", "advice.detachedHead=false", "checkout", "--quiet", ref.ref ?? "HEAD"], spec: spec, remote: shown)
            if FileManager.default.fileExists(atPath: repo + "/.gitmodules") {
                try git(["-C", repo, "submodule", "update", "--init", "--recursive", "--quiet"], spec: spec, remote: shown)
            }
            let commit = try git(["-C", repo, "rev-parse", "HEAD"], spec: spec, remote: shown)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if let c = spec.checksum, !c.isEmpty, !commit.hasPrefix(c.lowercased()) {
                throw spec.error(.checksumMismatch(url: shown, expected: c, actual: commit))
            }
            if spec.keepGitDir != true {
                try? FileManager.default.removeItem(atPath: repo + "/.git")
            }
            var root = repo
            if let sub = ref.subdir {
                let sp = try ScopedPath.resolve(root: repo, path: sub, scope: .chroot, followFinal: true)
                guard sp.exists, (try? FileStat.lstat(sp.hostPath))??.kind == .directory else {
                    throw spec.error(.download(url: shown, message: "subdirectory \(sub) not found in the repository"))
                }
                root = sp.hostPath
            }
            try normalise(root)
            return GitCheckout(directory: dir, root: root, commit: commit)
        } catch {
            try? FileSystem.removeTree(dir)
            if let e = error as? CopyError { throw e }
            throw spec.error(.download(url: shown, message: "\(error)"))
        }
    }

    private static func normalise(_ root: String) throws {
        chmod(root, 0o755)
        let ctx = try BuildContext(stageRootfs: root)
        try ctx.walk(under: "", hostPath: ctx.root) { _, host, st, _ in
            switch st.kind {
            case .directory: chmod(host, 0o755)
            case .regular: chmod(host, st.permissions & 0o111 != 0 ? 0o755 : 0o644)
            default: break
            }
            return true
        }
    }

    @discardableResult
    private static func git(_ args: [String], spec: CopySpec, remote: String) throws -> String {
        var env = ProcessInfo.processInfo.environment
        env["GIT_TERMINAL_PROMPT"] = "0"
        env["GIT_ASKPASS"] = "/bin/true"
        // Both pipes are drained together (`ChildProcess.run`), so a chatty git fills neither.
        let result: ChildOutput
        do { result = try ChildProcess.run(["/usr/bin/git"] + args, environment: env, newProcessGroup: false) } catch {
            throw spec.error(.download(url: remote, message: "cannot run git: \(error)"))
        }
        guard result.code == 0 else {
            let message = result.stderrText
                .split(separator: "\n").last.map(String.init) ?? "git exited with \(result.code)"
            throw spec.error(.download(url: remote, message: message))
        }
        return result.stdoutText
    }
}
