import Foundation
import GRDB

/// One finished (or failed) build, as `slipway history --builds` shows it: when, how long, what
/// it produced, and each step — cached or ran, its time, and why it missed the cache.
public struct BuildRecord: Codable, Sendable, Equatable {
    public struct Step: Codable, Sendable, Equatable {
        public var step: Int
        public var name: String
        /// `CACHED`, `RAN` or `ERROR`.
        public var status: String
        public var reason: String?
        public var seconds: Double?
        /// Compressed size of the step's layer.
        public var layerBytes: Int64?
        /// Bytes the step wrote to its layer (the uncompressed tar).
        public var uncompressedBytes: Int64?
        /// CPU time of a RUN's processes.
        public var cpuSeconds: Double?
        /// `local` (hit a record this store's builds wrote), `imported` (hit a record `--cache-from`
        /// brought in) or `ran`; nil in records written before it was kept.
        public var cache: String?
        /// For an `imported` hit, the cache it came from.
        public var importedFrom: String?

        public init(step: Int, name: String, status: String, reason: String?, seconds: Double?, layerBytes: Int64? = nil,
                    uncompressedBytes: Int64? = nil, cpuSeconds: Double? = nil, cache: String? = nil, importedFrom: String? = nil) {
            self.step = step
            self.name = name
            self.status = status
            self.reason = reason
            self.seconds = seconds
            self.layerBytes = layerBytes
            self.uncompressedBytes = uncompressedBytes
            self.cpuSeconds = cpuSeconds
            self.cache = cache
            self.importedFrom = importedFrom
        }
    }

    public var id: String
    public var started: Date
    public var seconds: Double
    public var succeeded: Bool
    /// The tags it was built with, normalised (`docker.io/library/app:1`).
    public var tags: [String]
    public var target: String?
    public var dockerfile: String
    /// The image ID it produced, when it stored one.
    public var image: String?
    public var steps: [Step]

    private enum CodingKeys: String, CodingKey {
        case id, started, seconds, succeeded, tags, target, dockerfile, image, steps
    }

    /// `started` is an RFC 3339 time (`2026-12-04T21:08:16.250Z`), as scripts reading
    /// `history --builds --format json` expect; records stored before that kept Foundation's
    /// default (seconds since 2001) and still read.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        if let text = try? c.decode(String.self, forKey: .started) {
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(forKey: .started, in: c, debugDescription: "not an RFC 3339 time: \(text)")
            }
            started = date
        } else {
            started = Date(timeIntervalSinceReferenceDate: try c.decode(Double.self, forKey: .started))
        }
        seconds = try c.decode(Double.self, forKey: .seconds)
        succeeded = try c.decode(Bool.self, forKey: .succeeded)
        tags = try c.decode([String].self, forKey: .tags)
        target = try c.decodeIfPresent(String.self, forKey: .target)
        dockerfile = try c.decode(String.self, forKey: .dockerfile)
        image = try c.decodeIfPresent(String.self, forKey: .image)
        steps = try c.decode([Step].self, forKey: .steps)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        // Milliseconds kept: two builds a second apart stay in order.
        let ms = Int((started.timeIntervalSince1970 - started.timeIntervalSince1970.rounded(.down)) * 1000)
        try c.encode(String(Timestamp.format(started).dropLast()) + String(format: ".%03dZ", ms), forKey: .started)
        try c.encode(seconds, forKey: .seconds)
        try c.encode(succeeded, forKey: .succeeded)
        try c.encode(tags, forKey: .tags)
        try c.encodeIfPresent(target, forKey: .target)
        try c.encode(dockerfile, forKey: .dockerfile)
        try c.encodeIfPresent(image, forKey: .image)
        try c.encode(steps, forKey: .steps)
    }

    public init(id: String, started: Date, seconds: Double, succeeded: Bool, tags: [String], target: String?,
                dockerfile: String, image: String?, steps: [Step]) {
        self.id = id
        self.started = started
        self.seconds = seconds
        self.succeeded = succeeded
        self.tags = tags
        self.target = target
        self.dockerfile = dockerfile
        self.image = image
        self.steps = steps
    }
}

extension BuildCacheIndex {
    /// How many build records the store keeps (oldest dropped first): enough to compare a week
    /// of CI builds, small enough to never matter for the index's size.
    public static let keptBuildRecords = 500

    /// Records a build (one transaction; the oldest records beyond `keptBuildRecords` go).
    public func putBuildRecord(_ record: BuildRecord) throws {
        let json = String(decoding: try CanonicalJSON.encode(record), as: UTF8.self)
        try index.locked { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO builds(id, started_at, tags, record) VALUES (?, ?, ?, ?)
                """, arguments: [record.id, record.started.timeIntervalSince1970,
                                 "|" + record.tags.joined(separator: "|") + "|", json])
            try db.execute(sql: """
                DELETE FROM builds WHERE id NOT IN (SELECT id FROM builds ORDER BY started_at DESC LIMIT ?)
                """, arguments: [Self.keptBuildRecords])
        }
    }

    /// The last `limit` builds, newest first; with `tag`, only builds that produced it
    /// (normalised as `ImageReference` does).
    public func buildRecords(tag: String? = nil, limit: Int = 10) throws -> [BuildRecord] {
        let normalised = try tag.map { try ImageReference(parsing: $0).description }
        let rows: [String] = try index.reading { db in
            if let normalised {
                return try String.fetchAll(db, sql: "SELECT record FROM builds WHERE instr(tags, ?) > 0 ORDER BY started_at DESC LIMIT ?",
                                           arguments: ["|" + normalised + "|", limit])
            }
            return try String.fetchAll(db, sql: "SELECT record FROM builds ORDER BY started_at DESC LIMIT ?", arguments: [limit])
        }
        return try rows.map { try CanonicalJSON.decode(BuildRecord.self, from: Array($0.utf8)) }
    }

    /// The build whose id starts with `prefix` (at least 4 characters, unambiguous).
    public func buildRecord(id prefix: String) throws -> BuildRecord {
        guard prefix.count >= 4 else { throw StoreError.invalid("build id '\(prefix)' is too short: give at least 4 characters") }
        let rows: [String] = try index.reading { db in
            try String.fetchAll(db, sql: "SELECT record FROM builds WHERE id LIKE ? LIMIT 2", arguments: [prefix.lowercased() + "%"])
        }
        guard let first = rows.first else { throw StoreError.invalid("no build with id '\(prefix)' (slipway history --builds lists them)") }
        guard rows.count == 1 else { throw StoreError.ambiguous(prefix, matches: rows.count) }
        return try CanonicalJSON.decode(BuildRecord.self, from: Array(first.utf8))
    }
}
