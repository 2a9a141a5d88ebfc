import Foundation
import GRDB
import CSQLiteConfig
#if canImport(Glibc)
import Glibc
#endif
import System

/// The local image store: one directory holding an OCI image layout's `blobs/sha256/<hex>`, an
/// SQLite index (`index.db`) of images, tags, layer facts, build-cache records and last-use
/// times, and unpacked layer snapshots.
///
/// Safety rules: a blob is written to `tmp/`, verified against its digest, fsynced and renamed
/// into place before any index row names it, so a process killed at any moment leaves only
/// unreferenced garbage (which `prune`/`fsck --repair` removes). Index changes run inside an
/// SQLite transaction under an exclusive `flock` on `lock`. A blob written but not yet named by
/// an image is protected from a concurrent garbage collection by a lease row carrying the
/// writer's pid, dropped when the image is recorded or the process ends.
public final class ImageStore: Sendable {
    public let root: String
    let db: DatabaseQueue
    /// The SQLite index and its lock, shared by the store's three parts.
    let index: StoreIndex
    /// Blobs by digest, leases: the content part (`ContentStore`).
    public let content: ContentStore
    /// Build cache records, step inputs, build records: the cache part (`BuildCacheIndex`).
    public let buildCache: BuildCacheIndex

    public var blobsDirectory: String { content.blobsDirectory }
    public var tmpDirectory: String { root + "/tmp" }
    public var snapshotsDirectory: String { root + "/snapshots" }
    var lockPath: String { root + "/lock" }

    /// Opens (creating when needed) the store at `root`.
    public init(root: String) throws {
        // Absolute, so paths handed to other processes (runc bundles, overlay mounts from a
        // helper with another working directory) mean the same directory.
        var r = root.hasPrefix("/") ? root : FileManager.default.currentDirectoryPath + "/" + root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
        try Self.makePrivate(root: r)
        let layoutPath = r + "/oci-layout"
        if !FileSystem.exists(layoutPath) {
            try StoreError.wrapping { try FileIO.writeAtomically(Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), to: layoutPath, tmpDir: r + "/tmp") }
        }
        var config = Configuration()
        config.busyMode = .timeout(60)
        config.foreignKeysEnabled = true
        // WAL: readers never wait for a writer. synchronous=NORMAL: commits append to the WAL
        // without an fsync (checkpoints still sync). A killed process never corrupts the index;
        // a power cut can lose the last commits, never consistency — and blobs are fsynced
        // before any row points at them. Set here rather than with GRDB's `.wal` journal mode,
        // whose set-up asks Foundation for the WAL file's size at every open (slow first use).
        // No checkpoint at close either, so a no-change rebuild makes no fsync at all. The WAL is
        // instead folded into the database once it holds 32 pages: every opener replays the WAL
        // (recovery), which must stay short to keep start-up fast.
        config.prepareDatabase { db in
            let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            guard mode == "wal" else { throw StoreError.database("cannot switch the index to WAL mode (got \(mode ?? "nothing"))") }
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            let rc = csqlite_no_checkpoint_on_close(db.sqliteConnection)
            guard rc == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: rc)) }
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 32")
        }
        do {
            let queue = try DatabaseQueue(path: r + "/index.db", configuration: config)
            try StoreFileLock.withLock(r + "/lock") {
                try Self.migrator.migrate(queue)
            }
            db = queue
            index = StoreIndex(db: queue, lockPath: r + "/lock")
            content = ContentStore(blobsDirectory: r + "/blobs/sha256", tmpDirectory: r + "/tmp", index: index)
            buildCache = BuildCacheIndex(index: index, content: content)
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError.database("cannot open \(r)/index.db: \(error)")
        }
    }

    deinit {
        // Leases only protect blobs of a live writer; this process is done with its own.
        let pid = Int64(getpid())
        // Most processes (any that wrote no blob) hold no lease: check before taking the lock.
        let held = (try? db.read { try Bool.fetchOne($0, sql: "SELECT 1 FROM leases WHERE pid = ? LIMIT 1", arguments: [pid]) }) ?? nil
        guard held == true else { return }
        _ = try? StoreFileLock.withLock(lockPath) {
            try db.write { try $0.execute(sql: "DELETE FROM leases WHERE pid = ?", arguments: [pid]) }
        }
    }

    /// Directories below the root that hold image content or a container's root filesystem.
    /// All are private (0700), like the root itself: snapshots hold setuid binaries and device
    /// nodes from images, `scratch/` holds the mounted root of a running step, and `blobs/`
    /// may hold private images — none of it may be reachable by other local users (moby's
    /// CVE-2021-41091).
    public static let privateDirectories = ["blobs", "blobs/sha256", "tmp", "snapshots", "scratch", "cache-mounts", "context-memo"]

    /// Creates the store's directories 0700 and tightens any that an older version (or a
    /// umask) left open to group or others. The root's own mode is what protects the rest, so
    /// a root that cannot be tightened is an error, not a warning.
    static func makePrivate(root r: String) throws {
        try FileSystem.makeDirectories(r, mode: 0o700)
        for name in ["blobs/sha256", "tmp", "snapshots"] { try FileSystem.makeDirectories(r + "/" + name, mode: 0o700) }
        for path in [r] + privateDirectories.map({ r + "/" + $0 }) {
            var st = stat()
            guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR, st.st_mode & 0o077 != 0 else { continue }
            if chmod(path, 0o700) != 0 {
                let e = errno
                throw StoreError.invalid("the store directory \(path) is open to other users (mode \(String(st.st_mode & 0o7777, radix: 8))) "
                                         + "and cannot be made private: \(SystemError.describe(errno: e, path: path)); run `chmod 700 \(path)` as its owner")
            }
        }
    }

    /// `<root>/<name>` (one of `privateDirectories`), created 0700 when missing.
    public func privateDirectory(_ name: String) throws -> String {
        let path = root + "/" + name
        try FileSystem.makeDirectories(path, mode: 0o700)
        return path
    }

    /// The default store location: `$SLIPWAY_ROOT`, else `/var/lib/slipway` for root, else
    /// `$XDG_DATA_HOME/slipway` (`~/.local/share/slipway`).
    public static func defaultRoot(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let r = environment["SLIPWAY_ROOT"], !r.isEmpty { return r }
        if getuid() == 0 { return "/var/lib/slipway" }
        if let x = environment["XDG_DATA_HOME"], !x.isEmpty { return x + "/slipway" }
        let home = environment["HOME"] ?? "/tmp"
        return home + "/.local/share/slipway"
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE images (
                    manifest_digest TEXT PRIMARY KEY,
                    config_digest TEXT NOT NULL,
                    media_type TEXT NOT NULL,
                    manifest_size INTEGER NOT NULL,
                    size INTEGER NOT NULL,
                    stored_size INTEGER NOT NULL,
                    created TEXT,
                    architecture TEXT NOT NULL,
                    os TEXT NOT NULL,
                    variant TEXT,
                    added_at REAL NOT NULL,
                    last_used REAL NOT NULL);
                CREATE INDEX images_config ON images(config_digest);
                CREATE TABLE layers (
                    digest TEXT PRIMARY KEY,
                    diff_id TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    uncompressed_size INTEGER,
                    media_type TEXT NOT NULL,
                    last_used REAL NOT NULL);
                CREATE INDEX layers_diff_id ON layers(diff_id);
                CREATE TABLE image_layers (
                    manifest_digest TEXT NOT NULL REFERENCES images(manifest_digest) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    layer_digest TEXT NOT NULL REFERENCES layers(digest),
                    PRIMARY KEY (manifest_digest, position));
                CREATE INDEX image_layers_layer ON image_layers(layer_digest);
                CREATE TABLE tags (
                    reference TEXT PRIMARY KEY,
                    repository TEXT NOT NULL,
                    tag TEXT NOT NULL,
                    manifest_digest TEXT NOT NULL REFERENCES images(manifest_digest) ON DELETE CASCADE,
                    updated_at REAL NOT NULL);
                CREATE INDEX tags_image ON tags(manifest_digest);
                CREATE TABLE cache_records (
                    key TEXT PRIMARY KEY,
                    layer_digest TEXT REFERENCES layers(digest),
                    result TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    last_used REAL NOT NULL);
                CREATE INDEX cache_layer ON cache_records(layer_digest);
                CREATE TABLE leases (
                    digest TEXT NOT NULL,
                    pid INTEGER NOT NULL,
                    created_at REAL NOT NULL,
                    PRIMARY KEY (digest, pid));
                """)
        }
        // What each step's key was made of when it last ran (`putStepInputs`), for explaining
        // a later miss of the same step. `scope` names the step (Dockerfile, stage, position;
        // or tag, stage, position); explanatory only, never part of a cache decision.
        m.registerMigration("v2-step-inputs") { db in
            try db.execute(sql: """
                CREATE TABLE step_inputs (
                    scope TEXT PRIMARY KEY,
                    key TEXT NOT NULL,
                    inputs TEXT NOT NULL,
                    created_at REAL NOT NULL);
                """)
        }
        m.registerMigration("v3-builds") { db in
            try db.execute(sql: """
                CREATE TABLE builds (
                    id TEXT PRIMARY KEY,
                    started_at REAL NOT NULL,
                    tags TEXT NOT NULL,
                    record TEXT NOT NULL);
                CREATE INDEX builds_started ON builds(started_at);
                """)
        }
        // Where each cache record came from (NULL: written by a build here; else the name of the
        // `--cache-from` cache it was imported from), when a build last hit it (`last_hit`:
        // `touchCacheRecords`, unlike `last_used`, which writes bump too), and which records
        // `--cache-to` exported where (`cache_exports`), for `history --unused-exports`.
        // Older stores gain the columns empty: their records read as local, never hit.
        m.registerMigration("v4-cache-origin") { db in
            try db.execute(sql: """
                ALTER TABLE cache_records ADD COLUMN origin TEXT;
                ALTER TABLE cache_records ADD COLUMN last_hit REAL;
                CREATE TABLE cache_exports (
                    key TEXT NOT NULL,
                    destination TEXT NOT NULL,
                    exported_at REAL NOT NULL,
                    build_id TEXT,
                    PRIMARY KEY (key, destination));
                """)
        }
        // The repositories an image was pushed to or pulled from, with the digest the registry
        // knows it by (docker's RepoDigests): only those, never one per local tag.
        m.registerMigration("v5-repo-digests") { db in
            try db.execute(sql: """
                CREATE TABLE repo_digests (
                    manifest_digest TEXT NOT NULL REFERENCES images(manifest_digest) ON DELETE CASCADE,
                    repository TEXT NOT NULL,
                    digest TEXT NOT NULL,
                    PRIMARY KEY (manifest_digest, repository));
                """)
        }
        return m
    }
}
