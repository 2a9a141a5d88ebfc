#if canImport(Glibc)
import Glibc
#endif
import Dockerfile
import Foundation
import OCI
import System

/// A RUN step's `--mount`s and `--security`, expanded and validated, nothing mounted yet.
struct ResolvedRunMounts: Sendable {
    struct Item: Sendable {
        var mount: Mount
        /// Absolute target in the container.
        var target: String
        /// `from=` resolved (bind and cache mounts).
        var source: StageRun.Source?
    }

    var items: [Item] = []
    var script: InlineScript?
    var insecure = false
    /// What the step's cache key adds, one list per mount: its options and content identity
    /// (never secret values or cache contents).
    var keyParts: [[String]] = []
}

/// Mounted and ready for the process; `release()` unmounts, unlocks and removes everything.
final class ActiveRunMounts: @unchecked Sendable {
    var binds: [BindMount] = []
    var tmpfs: [TmpfsMount] = []
    var env: [String] = []
    /// Set when `env` holds a secret: the runtime bundle (its config.json) goes to this tmpfs path.
    var bundleDirectory: String?
    private var cleanups: [() async -> Void] = []

    func onRelease(_ f: @escaping () async -> Void) { cleanups.append(f) }

    func release() async {
        for f in cleanups.reversed() { await f() }
        cleanups = []
    }
}

extension StageRun {
    /// Resolves the step's mounts (already expanded and parsed by the frontend's `StageScope`):
    /// targets made absolute, `from=` resolved like COPY --from. Throws with the Dockerfile line
    /// on bad input (unknown `from`, insecure without `--allow security.insecure`).
    func resolveRunMounts(_ run: Run, script: InlineScript?, step: Step, workdir: String) async throws -> ResolvedRunMounts {
        var out = ResolvedRunMounts()
        out.script = script
        func fail(_ reason: String) -> BuildError { self.fail(step, reason) }
        if run.security == "insecure" {
            guard request.extensions.allowInsecure else {
                throw fail("RUN --security=insecure needs the security.insecure entitlement: pass --allow security.insecure")
            }
            out.insecure = true
        }
        for mount in run.mounts {
            let spec = "type=" + mount.type.rawValue
            var target = mount.target ?? ""
            switch mount.type {
            case .secret:
                if target.isEmpty, mount.env == nil {
                    let id = mount.id ?? mount.source ?? ""
                    target = "/run/secrets/" + (id as NSString).lastPathComponent
                }
            case .ssh:
                if target.isEmpty {
                    let n = out.items.filter { $0.mount.type == .ssh }.count
                    target = "/run/buildkit/ssh_agent.\(n)"
                }
            default:
                guard !target.isEmpty else { throw fail("--mount=\(spec): mount target is required (target=/path)") }
            }
            if !target.isEmpty, !target.hasPrefix("/") {
                target = (workdir.hasSuffix("/") ? workdir : workdir + "/") + target
            }
            if !target.isEmpty { target = Self.cleanPath(target) }

            var source: Source?
            if let from = mount.from, mount.type == .bind || mount.type == .cache {
                source = try await copySource(stage.resolve(from: from), step: step)
            } else if mount.type == .bind {
                source = Source(layers: nil, identity: "context", name: "context")
            }
            out.items.append(.init(mount: mount, target: target, source: source))
            out.keyParts.append(try await keyPart(mount, target: target, source: source, line: step.startLine, fail: fail))
        }
        return out
    }

    /// The cache-key text of one mount: its spec, plus what a bind mount's content is.
    private func keyPart(_ m: Mount, target: String, source: Source?, line: Int, fail: (String) -> BuildError) async throws -> [String] {
        var parts = ["type=" + m.type.rawValue, "target=" + target, m.readOnly ? "ro" : "rw"]
        switch m.type {
        case .cache:
            parts += ["id=" + (m.id ?? target), "sharing=" + (m.sharing ?? .shared).rawValue,
                      "mode=" + String(m.mode ?? 0o755, radix: 8), "uid=\(m.uid ?? 0)", "gid=\(m.gid ?? 0)",
                      "from=" + (source?.identity ?? ""), "source=" + (m.source ?? "")]
        case .bind:
            let path = m.source ?? "/"
            parts += ["source=" + path]
            if let source, source.layers == nil {
                let dir = source.directory ?? request.contextDirectory
                var st = stat()
                guard lstat(RootFS.resolve(root: dir, Self.contextRelative(path)), &st) == 0 else {
                    throw fail("--mount=type=bind: source \(path) not found in \(source.directory == nil ? "the build context" : "build context " + source.name)")
                }
                do {
                    let root: CopySourceRoot = .context(source.directory ?? request.contextDirectory)
                    parts.append(try await engine.copier.sourceDigest(.selection([Self.contextRelative(path)], line: line), from: root).description)
                } catch {
                    throw fail("--mount=type=bind,source=\(path): \(error)")
                }
            } else if let source {
                parts.append(try await stageBindKey(path, source: source, line: line, fail: fail))
            }
        case .tmpfs:
            parts.append("size=\(m.sizeLimit ?? 0)")
        case .secret:
            // The id only: the value never reaches a key.
            parts += ["id=" + (m.id ?? m.source ?? ""), "env=" + (m.env ?? ""), "required=\(m.required)",
                      "mode=" + String(m.mode ?? 0o400, radix: 8), "uid=\(m.uid ?? 0)", "gid=\(m.gid ?? 0)"]
        case .ssh:
            parts += ["id=" + (m.id ?? "default"), "required=\(m.required)"]
        }
        return parts
    }

    /// Mounts everything `resolved` describes for one run of the step.
    func activateRunMounts(_ resolved: ResolvedRunMounts, line: Int) async throws -> ActiveRunMounts {
        let active = ActiveRunMounts()
        do {
            var scratch: StepScratch?
            func stepScratch() throws -> StepScratch {
                if let scratch { return scratch }
                let s = try StepScratch(fallback: request.extensions.scratchDirectory)
                scratch = s
                active.onRelease { s.remove() }
                return s
            }
            if let script = resolved.script {
                let path = try stepScratch().write("script-" + Self.safeName(script.name), Array(script.data.utf8),
                                                   mode: 0o755, uid: 0, gid: 0)
                active.binds.append(BindMount(source: path, destination: script.path, readOnly: true))
            }
            var sshSocketSet = false
            for item in resolved.items {
                let m = item.mount
                switch m.type {
                case .tmpfs:
                    active.tmpfs.append(TmpfsMount(destination: item.target, sizeLimit: m.sizeLimit))
                case .secret:
                    let id = m.id ?? m.source ?? (item.target as NSString).lastPathComponent
                    guard let value = try request.extensions.secrets.value(id) else {
                        if m.required {
                            throw MountUseError("\(file):\(line): secret \"\(id)\" is required but was not given: pass --secret id=\(id),src=FILE (or env=VAR)")
                        }
                        continue
                    }
                    if let name = m.env {
                        active.env.append(name + "=" + String(decoding: value, as: UTF8.self))
                        if active.bundleDirectory == nil { active.bundleDirectory = try stepScratch().path + "/bundle" }
                    }
                    if !item.target.isEmpty {
                        let path = try stepScratch().write("secret-" + Self.safeName(id), value, mode: mode_t(m.mode ?? 0o400),
                                                           uid: m.uid ?? 0, gid: m.gid ?? 0)
                        active.binds.append(BindMount(source: path, destination: item.target, readOnly: true))
                    }
                case .ssh:
                    let id = m.id ?? "default"
                    guard let socket = request.extensions.sshSockets[id] else {
                        if m.required {
                            throw MountUseError("\(file):\(line): ssh \"\(id)\" is required but was not given: pass --ssh \(id)=PATH (or set SSH_AUTH_SOCK)")
                        }
                        continue
                    }
                    active.binds.append(BindMount(source: socket, destination: item.target, readOnly: false))
                    if !sshSocketSet {
                        active.env.append("SSH_AUTH_SOCK=" + item.target)
                        sshSocketSet = true
                    }
                case .cache:
                    try await activateCache(item, into: active)
                case .bind:
                    try await activateBind(item, into: active)
                }
            }
            return active
        } catch {
            await active.release()
            throw error
        }
    }

    private func activateCache(_ item: ResolvedRunMounts.Item, into active: ActiveRunMounts) async throws {
        let m = item.mount
        guard let store = request.extensions.cacheMounts else {
            throw MountUseError("cache mounts need a store (no cache-mount directory configured)")
        }
        let id = m.id ?? item.target
        var mounted: MountedSource?
        var seedPath: String?
        if let source = item.source {
            let ms = try await mountSource(source)
            mounted = ms
            if case .rootfs(let root) = ms.root {
                seedPath = RootFS.resolve(root: root, m.source ?? "/")
            }
        }
        var populate: ((String) throws -> Void)?
        if let from = seedPath {
            let what = m.source ?? "/"
            let stage = m.from ?? ""
            populate = { (dir: String) throws -> Void in
                var st = stat()
                guard stat(from, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
                    throw MountUseError("cache mount \(id): from source \(what) is not a directory in \(stage)")
                }
                if ChildProcess.runQuietly(["/bin/cp", "-a", from + "/.", dir + "/"]) != 0 {
                    throw MountUseError("cache mount \(id): cannot copy \(what) from \(stage)")
                }
            }
        }
        let seed: String? = item.source.map { $0.identity + ":" + (m.source ?? "/") }
        let sharing: Mount.Sharing = m.sharing ?? .shared
        let lease: CacheMountStore.Lease
        do {
            lease = try await store.acquire(id: id, seed: seed, sharing: sharing, mode: mode_t(m.mode ?? 0o755),
                                            uid: m.uid ?? 0, gid: m.gid ?? 0, populate: populate)
        } catch {
            await mounted?.release()
            throw error
        }
        await mounted?.release()
        active.onRelease { lease.release() }
        active.binds.append(BindMount(source: lease.dataPath, destination: item.target, readOnly: m.readOnly))
    }

    private func activateBind(_ item: ResolvedRunMounts.Item, into active: ActiveRunMounts) async throws {
        let m = item.mount
        guard let source = item.source else { return }
        let hostPath: String
        if source.layers == nil {
            // The context: the source must stay inside it, symlinks included.
            let ctx = source.directory ?? request.contextDirectory
            hostPath = RootFS.resolve(root: ctx, Self.contextRelative(m.source ?? "/"))
        } else {
            let ms = try await mountSource(source)
            active.onRelease { await ms.release() }
            guard case .rootfs(let root) = ms.root else { return }
            hostPath = RootFS.resolve(root: root, m.source ?? "/")
        }
        var st = stat()
        guard stat(hostPath, &st) == 0 else {
            throw MountUseError("--mount=type=bind: source \(m.source ?? "/") not found in \(source.name)")
        }
        var path = hostPath
        // A local context (the main one or a named directory) is seen through its
        // .dockerignore, as COPY sees it.
        var hidden: [String] = []
        if source.layers == nil, let copier = engine.copier as? ContextCopier,
           let local = try? copier.localContext(source.directory ?? request.contextDirectory),
           !(local.filter is IncludeEverything) {
            let filter = local.filter
            let ctx = source.directory ?? request.contextDirectory
            let rel = hostPath == ctx ? "" : String(hostPath.dropFirst(ctx.count + 1))
            if !rel.isEmpty, !filter.includes(rel), (st.st_mode & S_IFMT) != S_IFDIR || !filter.mightIncludeUnder(rel) {
                throw MountUseError("--mount=type=bind: source \(m.source ?? "/") is excluded by .dockerignore")
            }
            if (st.st_mode & S_IFMT) == S_IFDIR { hidden = Self.ignoredPaths(under: hostPath, relative: rel, filter: filter) }
        }
        if source.layers == nil, !m.readOnly || !hidden.isEmpty {
            // rw or filtered: a throwaway overlay over the context (changes and hidden files
            // never touch it), or a copy for a single file.
            if (st.st_mode & S_IFMT) == S_IFDIR {
                let snap = try await engine.snapshotter.writable(lowers: [hostPath])
                active.onRelease {
                    try? await snap.unmount()
                    await snap.discard()
                }
                for h in hidden { try? FileSystem.removeTree(snap.root + "/" + h) }
                path = snap.root
            } else {
                let s = try StepScratch(fallback: request.extensions.scratchDirectory)
                active.onRelease { s.remove() }
                let data = FileManager.default.contents(atPath: hostPath) ?? Data()
                path = try s.write("bind", Array(data), mode: mode_t(st.st_mode & 0o7777), uid: st.st_uid, gid: st.st_gid)
            }
        }
        // Stage and image sources are throwaway overlays already: rw changes vanish with them.
        active.binds.append(BindMount(source: path, destination: item.target, readOnly: m.readOnly))
    }

    /// Paths below `dir` (relative to it) that the context filter hides: a hidden directory
    /// is listed whole unless an exception may re-include something inside it.
    static func ignoredPaths(under dir: String, relative: String, filter: any PathFilter) -> [String] {
        var out: [String] = []
        func walk(_ sub: String) {
            for name in ((try? FileSystem.entries(sub.isEmpty ? dir : dir + "/" + sub)) ?? []).sorted() {
                let inDir = sub.isEmpty ? name : sub + "/" + name
                let inContext = relative.isEmpty ? inDir : relative + "/" + inDir
                var st = stat()
                let isDir = lstat(dir + "/" + inDir, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
                if filter.includes(inContext) {
                    if isDir { walk(inDir) }
                } else if isDir && filter.mightIncludeUnder(inContext) {
                    walk(inDir)
                } else {
                    out.append(inDir)
                }
            }
        }
        walk("")
        return out
    }

    static func cleanPath(_ p: String) -> String {
        var out: [Substring] = []
        for c in p.split(separator: "/") {
            if c == "." { continue }
            if c == ".." { _ = out.popLast(); continue }
            out.append(c)
        }
        return "/" + out.joined(separator: "/")
    }

    /// A context path as COPY takes it ("." for the whole context).
    static func contextRelative(_ p: String) -> String {
        let c = cleanPath(p)
        return c == "/" ? "." : String(c.dropFirst())
    }

    static func safeName(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
    }
}
