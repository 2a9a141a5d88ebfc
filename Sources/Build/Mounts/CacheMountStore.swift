#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Dockerfile
import Foundation
import OCI
import System

/// Persistent `RUN --mount=type=cache` directories: `<root>/<sha256 of key>/` holding `id` (the
/// cache id, for listing and export), `lock` (flock'd while a step uses it) and `data/` (what
/// the step sees). A cache is keyed as BuildKit keys it: by `id` (default: the target), plus
/// the `from` source when one seeds it. Nothing here is ever part of a layer or a cache key.
public struct CacheMountStore: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// One cache mount in use; `release()` unlocks it.
    final class Lease: @unchecked Sendable {
        let dataPath: String
        private var fd: Int32
        init(dataPath: String, fd: Int32) {
            self.dataPath = dataPath
            self.fd = fd
        }
        func release() {
            if fd >= 0 { close(fd) }  // closing drops the flock
            fd = -1
        }
        deinit { release() }
    }

    /// The directory name of cache `id` (seeded from `seed` when set).
    public static func key(id: String, seed: String?) -> String {
        Digest.sha256("cache-mount\u{0}" + id + "\u{0}" + (seed ?? "")).encoded
    }

    /// Takes cache `id` for a step. `shared`: concurrent users share it; `locked`: waits until
    /// no other step holds it; `private`: when it is busy, another instance (`<key>-N`) is used.
    /// A new cache directory is created with `mode`/`uid`/`gid` and filled by `populate`.
    func acquire(id: String, seed: String?, sharing: Mount.Sharing, mode: mode_t, uid: uid_t, gid: gid_t,
                 populate: ((String) throws -> Void)?) async throws -> Lease {
        let base = Self.key(id: id, seed: seed)
        try FileSystem.makeDirectories(root)
        var instance = 0
        while true {
            let name = instance == 0 ? base : base + "-\(instance)"
            let dir = root + "/" + name
            try FileSystem.makeDirectories(dir, mode: 0o700)
            let fd = open(dir + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw MountUseError("cache mount \(id)", cause: .last("open", path: dir + "/lock")) }
            switch sharing {
            case .shared:
                try await Self.flockBlocking(fd, LOCK_SH)
            case .locked:
                try await Self.flockBlocking(fd, LOCK_EX)
            case .private:
                if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                    close(fd)
                    instance += 1
                    continue
                }
            }
            let lease = Lease(dataPath: dir + "/data", fd: fd)
            do {
                try create(dir: dir, id: id, mode: mode, uid: uid, gid: gid, populate: populate)
            } catch {
                lease.release()
                throw error
            }
            return lease
        }
    }

    /// Creates `dir/data` once: filled in a temporary directory, then renamed into place, so a
    /// crash never leaves a half-seeded cache.
    private func create(dir: String, id: String, mode: mode_t, uid: uid_t, gid: gid_t,
                        populate: ((String) throws -> Void)?) throws {
        let data = dir + "/data"
        var st = stat()
        if lstat(data, &st) == 0 { return }
        let tmp = dir + "/data.tmp-" + TempName.randomHex(4)
        guard mkdir(tmp, 0o700) == 0 else { throw MountUseError("cache mount \(id)", cause: .last("mkdir", path: tmp)) }
        do {
            try populate?(tmp)
            guard chown(tmp, uid, gid) == 0, chmod(tmp, mode) == 0 else {
                throw MountUseError("cache mount \(id)", cause: .last("chown/chmod", path: tmp))
            }
            try FileIO.writeFile(Array((id).utf8), to: dir + "/id", mode: 0o600)
            guard rename(tmp, data) == 0 else { throw MountUseError("cache mount \(id)", cause: .last("rename to \(data)", path: tmp)) }
        } catch {
            try? FileSystem.removeTree(tmp)
            throw error
        }
    }

    /// flock that may block, off the cooperative thread pool.
    static func flockBlocking(_ fd: Int32, _ op: Int32) async throws {
        if flock(fd, op | LOCK_NB) == 0 { return }
        // errno is read on the thread that called flock (it is per thread).
        let failed: Int32 = try await runOffPool { flock(fd, op) == 0 ? 0 : errno }
        if failed != 0 { throw MountUseError("cannot lock a cache mount", cause: SystemError(operation: "flock", path: "the cache mount's lock file", errno: failed)) }
    }

    // MARK: - listing, prune, export, import

    /// One cache directory.
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var id: String
    }

    public func entries() -> [Entry] {
        ((try? FileSystem.entries(root)) ?? []).sorted().compactMap { name in
            guard let id = FileIO.readRegularText(root + "/" + name + "/id", limit: Self.maxIDBytes) else { return nil }
            return Entry(name: name, id: id)
        }
    }

    /// Whether a step holds this cache now (its lock cannot be taken exclusively).
    public func isInUse(_ entry: Entry) -> Bool {
        let fd = open(root + "/" + entry.name + "/lock", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return flock(fd, LOCK_EX | LOCK_NB) != 0
    }

    /// The bytes of a cache's files (`system df`).
    public func size(of entry: Entry) -> Int64 {
        ImageStore.treeBytes(root + "/" + entry.name)
    }

    /// Removes every cache not in use (a step holding one keeps it). Returns the ids removed.
    public func prune() -> [String] {
        var removed: [String] = []
        for name in ((try? FileSystem.entries(root)) ?? []).sorted() {
            let dir = root + "/" + name
            let fd = open(dir + "/lock", O_RDWR | O_CLOEXEC)
            if fd >= 0 {
                defer { close(fd) }
                if flock(fd, LOCK_EX | LOCK_NB) != 0 { continue }
            }
            let id = FileIO.readRegularText(dir + "/id", limit: Self.maxIDBytes) ?? name
            // Rename first so a concurrent step never sees a half-removed cache.
            let doomed = root + "/.removing-" + name
            guard rename(dir, doomed) == 0 else { continue }
            try? FileSystem.removeTree(doomed)
            removed.append(id)
        }
        return removed
    }

    /// Writes the caches (all, or those whose id is in `ids`) to `file` as an uncompressed tar
    /// of `<key>/id` and `<key>/data/...`.
    public func export(to file: String, ids: [String]) throws -> [String] {
        let all = entries()
        let chosen = ids.isEmpty ? all : all.filter { ids.contains($0.id) }
        if !ids.isEmpty {
            for id in ids where !all.contains(where: { $0.id == id }) {
                throw MountUseError("no cache mount with id \"\(id)\" (slipway cache ls lists them)")
            }
        }
        var excluded: Set<String> = []
        for name in (try? FileSystem.entries(root)) ?? [] where !chosen.contains(where: { $0.name == name }) { excluded.insert(name) }
        for e in chosen {
            excluded.insert(e.name + "/lock")
            for f in (try? FileSystem.entries(root + "/" + e.name)) ?? [] where f.hasPrefix("data.tmp-") { excluded.insert(e.name + "/" + f) }
        }
        try FileSystem.makeDirectories(root)
        let writer = LayerWriter(options: .init(compression: .none, source: .rootfs, excludedPaths: excluded))
        // By the output rule: `-` is stdout, devices and symlinks are written through, a regular
        // file is replaced atomically.
        try OutputFile.write(file, what: "the cache export") { sink in try writer.writeTar(directory: root, to: sink) }
        return chosen.map(\.id)
    }

    /// The largest `id` file a cache directory may have (BuildKit ids are short names).
    public static let maxIDBytes = 4096

    /// Whether `name` is a cache directory name: a 64-digit hex key, optionally `-N`.
    static func isCacheName(_ name: String) -> Bool {
        let parts = name.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let key = parts.first, key.utf8.count == 64, key.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else { return false }
        return parts.count == 1 || (!parts[1].isEmpty && parts[1].allSatisfy(\.isASCII) && Int(parts[1]) != nil)
    }

    /// The ids of the caches in an export, read from the archive stream itself (never through
    /// the filesystem): for every `<key>/` directory, its `id` member must be a regular file of
    /// at most `maxIDBytes`, its `data` member a directory, and it may hold nothing else. Any
    /// other member type there (a symlink, a device, a hardlink...) is an error naming it.
    static func readIDs(ofArchive file: String) throws -> [String: String] {
        func fail(_ entry: String, _ problem: String) -> MountUseError {
            MountUseError("cache archive \(file): member '\(DisplayText.escaped(entry))' \(problem); "
                          + "an export holds <key>/id (a regular file of at most \(maxIDBytes) bytes) and <key>/data/ (a directory)")
        }
        func kind(_ e: TarEntry) -> String {
            switch e.kind {
            case .regular: return "a regular file"
            case .directory: return "a directory"
            case .symlink: return "a symbolic link to '\(DisplayText.escaped(e.linkName))'"
            case .hardlink: return "a hard link to '\(DisplayText.escaped(e.linkName))'"
            case .characterDevice: return "a character device"
            case .blockDevice: return "a block device"
            case .fifo: return "a FIFO"
            case .other: return "a special tar entry"
            }
        }
        var ids: [String: String] = [:]
        let reader: LayerReader
        do { reader = try LayerReader(blob: file) } catch { throw MountUseError("cannot read cache archive \(file): \(error)") }
        do {
            while let entry = try reader.next() {
                let parts = entry.path.split(separator: "/").filter { $0 != "." }.map(String.init)
                guard let name = parts.first, isCacheName(name) else { continue }
                switch parts.count {
                case 1:
                    guard entry.kind == .directory else { throw fail(entry.path, "is \(kind(entry)), not a directory") }
                case 2 where parts[1] == "id":
                    guard entry.kind == .regular else { throw fail(entry.path, "is \(kind(entry)), not a regular file") }
                    guard entry.size <= Int64(maxIDBytes) else { throw fail(entry.path, "is \(entry.size) bytes, more than \(maxIDBytes)") }
                    ids[name] = String(decoding: try reader.readData(limit: maxIDBytes), as: UTF8.self)
                case 2 where parts[1] == "data":
                    guard entry.kind == .directory else { throw fail(entry.path, "is \(kind(entry)), not a directory") }
                case 2:
                    throw fail(entry.path, "is not part of a cache (only id and data/ are)")
                default:
                    guard parts[1] == "data" else { throw fail(entry.path, "is not part of a cache (only id and data/ are)") }
                }
            }
        } catch let e as MountUseError {
            throw e
        } catch {
            throw MountUseError("cannot read cache archive \(file): \(error)")
        }
        return ids
    }

    /// Reads an export made by `export` (any compression), replacing caches with the same key.
    /// The ids come from the archive stream (`readIDs`), never from extracted files, and
    /// extraction never writes outside the cache root (the layer applier's checks).
    public func importArchive(_ file: String, temporaryDirectory: String) throws -> [String] {
        let ids = try Self.readIDs(ofArchive: file)
        try FileSystem.makeDirectories(root)
        let staging = try FileSystem.makeTemporaryDirectory(in: temporaryDirectory, prefix: "cache-import-")
        defer { try? FileSystem.removeTree(staging) }
        do {
            _ = try LayerApplier(mode: .flatten).apply(blob: file, to: staging)
        } catch {
            throw MountUseError("cannot read cache archive \(file): \(error)")
        }
        // A later member can still have written into a cache through a symlink elsewhere in
        // the archive (the applier follows parent symlinks inside its root): check what was
        // extracted, without following anything, before any of it becomes a cache.
        for (name, id) in ids {
            let dir = staging + "/" + name
            var st = stat()
            let children = Set((try? FileSystem.entries(dir)) ?? [])
            guard lstat(dir, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR, children.isSubset(of: ["id", "data"]),
                  lstat(dir + "/data", &st) != 0 || (st.st_mode & S_IFMT) == S_IFDIR,
                  FileIO.readRegularText(dir + "/id", limit: Self.maxIDBytes) == id else {
                throw MountUseError("cache archive \(file): cache '\(name)' was changed by another member (through a symlink) "
                                    + "while extracting; nothing was imported")
            }
        }
        var imported: [String] = []
        for name in ids.keys.sorted() {
            guard let id = ids[name] else { continue }
            let dest = root + "/" + name
            let old = root + "/.removing-" + name
            if rename(dest, old) == 0 { try? FileSystem.removeTree(old) }
            guard rename(staging + "/" + name, dest) == 0 else {
                throw MountUseError("cannot import cache \(DisplayText.escaped(id))", cause: .last("rename to \(dest)", path: staging + "/" + name))
            }
            imported.append(id)
        }
        return imported
    }
}
