import Foundation
import OCI

/// What a copy did, for progress output and tests.
public struct CopyReport: Sendable, Equatable {
    /// Files, links, devices and directories written.
    public var entries: Int = 0
    /// Archives ADD unpacked.
    public var archivesUnpacked: Int = 0
}

/// COPY and ADD with BuildKit's semantics, into a directory the caller supplies (a step's
/// mounted overlay). Sources never leave their root (the context's symlinks are confined,
/// a stage's are chrooted) and writes never leave the target (the destination is resolved
/// as if chrooted, and nothing below it is written through a symlink).
public enum Copier {
    /// A source pattern's matches, with the `--parents` pivot (the part of the path that is
    /// not recreated at the destination).
    struct Match {
        let source: ResolvedSource
        let pivot: String
    }

    /// Expands the local sources of `spec` (URLs are skipped): literal paths must exist
    /// (`file not found in build context or excluded by .dockerignore`); a wildcard that
    /// matches nothing contributes nothing — BuildKit's `AllowEmptyWildcard`, so
    /// `COPY *.none /x/` succeeds and copies nothing. Throws `CopyError`.
    public static func resolveSources(_ spec: CopySpec, from source: BuildContext) throws -> [ResolvedSource] {
        try matches(spec, from: source).map(\.source)
    }

    /// The content digest of everything `spec` would copy from `source` (for the cache key).
    public static func sourceDigest(_ spec: CopySpec, from source: BuildContext) throws -> Digest {
        let excludes = try excludeSet(spec)
        do {
            return try source.contentDigest(of: resolveSources(spec, from: source), excludes: excludes)
        } catch let e as ContextError {
            throw map(e, spec)
        }
    }

    /// The entries `sourceDigest` covers (local sources only), for explaining a cache miss.
    public static func sourceListing(_ spec: CopySpec, from source: BuildContext) throws -> SelectionListing {
        let excludes = try excludeSet(spec)
        do {
            return try source.listing(of: resolveSources(spec, from: source), excludes: excludes)
        } catch let e as ContextError {
            throw map(e, spec)
        }
    }

    /// The flag combinations BuildKit rejects before doing anything (dockerfile2llb).
    static func validate(_ spec: CopySpec) throws {
        guard let c = spec.checksum, !c.isEmpty else { return }
        if !spec.isAdd { throw spec.error(.invalidOption("checksum can't be specified for COPY")) }
        if spec.sources.count != 1 { throw spec.error(.invalidOption("checksum can't be specified for multiple sources")) }
        if !spec.sources.allSatisfy(RemoteSource.isRemote) {
            throw spec.error(.invalidOption("checksum requires HTTP(S) or Git sources"))
        }
    }

    static func matches(_ spec: CopySpec, from source: BuildContext) throws -> [Match] {
        try validate(spec)
        let excludes = try excludeSet(spec)
        var out: [Match] = []
        for pattern in spec.sources where !RemoteSource.isRemote(pattern) {
            var pivot = ""
            var full = pattern
            if spec.parents {
                // `x/./y/*.txt`: only what follows the `/./` is recreated at the destination.
                if let r = pattern.range(of: "/./") {
                    pivot = ScopedPath.cleanComponents(String(pattern[..<r.lowerBound])).joined(separator: "/")
                    full = String(pattern[..<r.lowerBound]) + "/" + String(pattern[r.upperBound...])
                }
            }
            let found: [ResolvedSource]?
            do { found = try source.expand(full, doubleStar: spec.parents) } catch let e as ContextError { throw map(e, spec) }
            guard let found else {
                throw spec.error(.notFound(path: pattern, inContext: source.isContext))
            }
            // --exclude applies below each match (BuildKit); a matched *file* is also dropped
            // when a pattern names it, so `COPY --exclude=*.txt hom* /d/` skips home.txt as
            // documented. Matched directories stay (`ADD --exclude=* dir* /d` makes an empty /d).
            out += found.filter { m in
                guard let ex = excludes, m.stat.kind != .directory else { return true }
                return !ex.matches(m.path) && !ex.matches(m.baseName)
            }.map { Match(source: $0, pivot: pivot) }
        }
        return out
    }

    static func map(_ e: ContextError, _ spec: CopySpec) -> CopyError {
        switch e {
        case .escapesRoot: return spec.error(.outsideContext(e))
        case .badPattern(let p): return spec.error(.invalidOption("malformed wildcard pattern \"\(p)\""))
        default: return spec.error(.io(e.description))
        }
    }

    static func excludeSet(_ spec: CopySpec) throws -> PathPatternSet? {
        guard !spec.excludes.isEmpty else { return nil }
        do { return try PathPatternSet(spec.excludes) } catch {
            throw spec.error(.invalidOption("invalid --exclude pattern in \(spec.excludes)"))
        }
    }

    static func options(_ spec: CopySpec, target: String) throws -> (Ownership?, ChmodSpec?) {
        var owner: Ownership?
        if let c = spec.chown, !c.isEmpty {
            do { owner = try Ownership.resolve(c, rootfs: target) } catch {
                switch error {
                case .invalid(let s): throw spec.error(.invalidChown(s))
                case .unknownUser(let n): throw spec.error(.unknownUser(name: n))
                case .unknownGroup(let n): throw spec.error(.unknownGroup(name: n))
                }
            }
        }
        var mode: ChmodSpec?
        if let m = spec.chmod, !m.isEmpty {
            do { mode = try ChmodSpec(parsing: m) } catch { throw spec.error(.invalidChmod(m)) }
        }
        return (owner, mode)
    }

    /// Copies the local sources of `spec` from `source` into `target` (the step's root
    /// filesystem); URL sources are refused here (use the async `perform`). ADD unpacks local tar archives (plain, gzip, bzip2, xz, zstd) into the
    /// destination directory. Throws `CopyError`.
    @discardableResult
    public static func copy(_ spec: CopySpec, from source: BuildContext, into target: String) throws -> CopyReport {
        if spec.sources.contains(where: RemoteSource.isRemote) {
            // Never skip a URL silently: downloads are async, see `perform`.
            throw spec.error(.invalidOption("ADD from a URL or git needs Copier.perform (internal: the synchronous copy got \(spec.sources.filter(RemoteSource.isRemote)))"))
        }
        let found = try matches(spec, from: source)
        var report = CopyReport()
        if found.isEmpty { return report }
        let root: String
        do { root = try ScopedPath.canonicalDirectory(target) } catch { throw spec.error(.io("\(error)")) }
        let (owner, mode) = try options(spec, target: root)
        let writer = TreeWriter(root: root, spec: spec, source: source, owner: owner, mode: mode,
                                excludes: try excludeSet(spec))
        let (dest, destIsDir) = spec.resolvedDestination
        let treatAsDir = destIsDir || spec.parents
        if found.count > 1 && !treatAsDir {
            let existing = try writer.resolve(dest)
            let isDir = (try? FileStat.lstat(existing.hostPath))??.kind == .directory
            if !isDir && found.contains(where: { $0.source.stat.kind != .directory }) {
                throw spec.error(.destinationNotDirectory(destination: spec.destination))
            }
        }
        // BuildKit creates the destination (or its parent) first: 0755, or the --chmod octal
        // mode, owned by the --chown user.
        _ = try writer.mkdirAll(treatAsDir ? dest : parentPath(dest))
        for m in found {
            let unpack = spec.isAdd && (spec.unpack ?? true)
            if unpack && m.source.stat.kind == .regular && ArchiveUnpacker.isArchive(m.source.hostPath) {
                try ArchiveUnpacker.unpack(m.source.hostPath, spec: spec, into: root, destination: dest, owner: owner)
                report.archivesUnpacked += 1
                continue
            }
            if spec.parents {
                try writer.copyWithParents(m, destination: dest)
            } else {
                try writer.copyTop(m.source, destination: dest)
            }
        }
        report.entries += writer.count
        return report
    }

    static func parentPath(_ p: String) -> String {
        var comps = ScopedPath.cleanComponents(p)
        _ = comps.popLast()
        return "/" + comps.joined(separator: "/")
    }
}
