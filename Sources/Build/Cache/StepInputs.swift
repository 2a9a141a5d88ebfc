import Foundation
import OCI

/// What a step's cache key was made of, kept in plain form so that a later miss of the same step
/// can say which input changed (`MissExplainer`). Not part of any key: recorded when a step
/// runs, read when the same step (`scopes`) misses in a later build. Secrets never appear here,
/// only their ids (the key holds no more); file lists are capped (`SelectionListing.limit`).
public struct StepInputs: Codable, Sendable, Equatable {
    public struct Field: Codable, Sendable, Equatable {
        public var tag: String
        public var values: [String]
    }

    /// The key's kind (`CacheKey.Kind`).
    public var kind: String
    /// The instruction as shown in progress (`COPY package*.json ./`).
    public var instruction: String
    public var line: Int
    /// The key's fields, in order.
    public var fields: [Field]
    /// The stage's base: `image NAME CONFIG-DIGEST`, `stage NAME` or `scratch`.
    public var base: String
    /// Names of the build args in scope (to tell a build arg from an ENV in `env`).
    public var args: [String]
    /// For COPY/ADD from the build context: what the sources selected.
    public var files: SelectionListing?
    /// The context's ignore file digest ("" when none), for COPY/ADD from the context.
    public var ignoreFile: String?

    public init(key: CacheKey, instruction: String, line: Int, base: String, args: [String],
                files: SelectionListing? = nil, ignoreFile: String? = nil) {
        kind = key.kind.rawValue
        self.instruction = instruction
        self.line = line
        fields = key.fields.map { Field(tag: $0.tag, values: $0.values) }
        self.base = base
        self.args = args.sorted()
        self.files = files
        self.ignoreFile = ignoreFile
    }

    public func values(_ tag: String) -> [String]? { fields.first { $0.tag == tag }?.values }
}

/// The entries a COPY/ADD's sources select, in walk order: path (as in the image, relative),
/// a short content identity (its record digest: content, mode, owner, link target) and size.
public struct SelectionListing: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var path: String
        public var identity: String
        public var size: Int64
        public init(path: String, identity: String, size: Int64) {
            self.path = path
            self.identity = identity
            self.size = size
        }
    }

    /// At most this many entries are kept; `total` counts them all.
    public static let limit = 2_000

    public var entries: [Entry] = []
    public var total = 0

    public init() {}

    public mutating func add(_ entry: Entry) {
        total += 1
        if entries.count < Self.limit { entries.append(entry) }
    }

    public var isComplete: Bool { total == entries.count }
}
