import Foundation
import GRDB

extension ImageStore {
    /// Records an image whose config and layer blobs are already in the store: writes the
    /// manifest blob, then (under the lock, in one transaction) the image, its layers and its
    /// tags. Layer facts not given in `layers` are taken from the config's `rootfs.diff_ids`.
    /// Moving a tag from another image leaves that image untagged (dangling) until `prune`.
    @discardableResult
    public func putImage(manifest bytes: [UInt8], tags: [ImageReference] = [], layers facts: [LayerRecord] = []) throws -> StoredImage {
        let manifest = try ImageManifest.decode(bytes)
        let configBytes: [UInt8]
        do {
            configBytes = try content.readBlob(manifest.config.digest)
        } catch StoreError.blobMissing {
            throw StoreError.invalid("image config \(manifest.config.digest) is not in the store; store config and layers before the manifest")
        }
        guard Int64(configBytes.count) == manifest.config.size else {
            throw StoreError.sizeMismatch(expected: manifest.config.size, actual: Int64(configBytes.count), what: "image config \(manifest.config.digest)")
        }
        let config = try ImageConfig.decode(configBytes, source: "image config \(manifest.config.digest)")
        guard config.rootfs.diffIDs.count == manifest.layers.count else {
            throw StoreError.invalid("manifest lists \(manifest.layers.count) layers but its config has \(config.rootfs.diffIDs.count) diff_ids")
        }
        let known = Dictionary(facts.map { ($0.digest, $0) }, uniquingKeysWith: { a, _ in a })
        var records: [LayerRecord] = []
        for (i, layer) in manifest.layers.enumerated() {
            guard let size = content.blobSize(layer.digest) else {
                throw StoreError.invalid("layer \(layer.digest) is not in the store; store layers before the manifest")
            }
            guard size == layer.size else {
                throw StoreError.sizeMismatch(expected: layer.size, actual: size, what: "layer \(layer.digest)")
            }
            var r = known[layer.digest] ?? LayerRecord(
                digest: layer.digest, diffID: config.rootfs.diffIDs[i], size: size,
                uncompressedSize: MediaType.layerCompression(layer.mediaType) == LayerCompression.none ? size : nil,
                mediaType: layer.mediaType)
            guard r.diffID == config.rootfs.diffIDs[i] else {
                throw StoreError.invalid("layer \(layer.digest) has diff_id \(r.diffID) but the config says \(config.rootfs.diffIDs[i])")
            }
            r.mediaType = layer.mediaType
            records.append(r)
        }
        let manifestDigest = try content.putBlob(bytes, what: "manifest")
        let now = Date().timeIntervalSince1970
        let size = records.reduce(Int64(0)) { $0 + ($1.uncompressedSize ?? $1.size) }
        let stored = Int64(bytes.count) + manifest.config.size + records.reduce(Int64(0)) { $0 + $1.size }
        try locked { db in
            for r in records {
                try upsertLayer(db, r, now: now)
            }
            try db.execute(sql: """
                INSERT INTO images(manifest_digest, config_digest, media_type, manifest_size, size, stored_size,
                                   created, architecture, os, variant, added_at, last_used)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(manifest_digest) DO UPDATE SET last_used = excluded.last_used
                """, arguments: [manifestDigest.description, manifest.config.digest.description,
                                 manifest.mediaType ?? MediaType.ociManifest, bytes.count, size, stored,
                                 config.created, config.architecture, config.os, config.variant, now, now])
            try db.execute(sql: "DELETE FROM image_layers WHERE manifest_digest = ?", arguments: [manifestDigest.description])
            for (i, r) in records.enumerated() {
                try db.execute(sql: "INSERT INTO image_layers(manifest_digest, position, layer_digest) VALUES (?, ?, ?)",
                               arguments: [manifestDigest.description, i, r.digest.description])
            }
            for t in tags { try setTag(db, t, manifestDigest, now: now) }
            let pid = Int64(getpid())
            for d in [manifestDigest, manifest.config.digest] + records.map(\.digest) {
                try db.execute(sql: "DELETE FROM leases WHERE digest = ? AND pid = ?", arguments: [d.description, pid])
            }
        }
        guard let image = try image(manifestDigest: manifestDigest) else {
            throw StoreError.database("image \(manifestDigest) vanished right after it was recorded")
        }
        return image
    }

    /// Encodes `config` and a manifest over `layers` canonically, stores both and records the
    /// image: the one call the build engine needs once its layers are in the store.
    @discardableResult
    public func putImage(config: ImageConfig, layers: [LayerRecord], format: ManifestFormat = .oci,
                         tags: [ImageReference] = [], annotations: [String: String]? = nil) throws -> StoredImage {
        let image = try Self.encodeImage(config: config, layers: layers, format: format, annotations: annotations)
        try content.putBlob(image.config, expected: image.configDescriptor.digest, what: "image config")
        return try putImage(manifest: image.manifest, tags: tags, layers: layers)
    }

    /// The canonical config and manifest of an image over `layers`: the one encoding of the
    /// images Slipway makes (builds, imports), so the same inputs give the same image ID.
    public static func encodeImage(config: ImageConfig, layers: [LayerRecord], format: ManifestFormat = .oci,
                                   annotations: [String: String]? = nil) throws -> (config: [UInt8], configDescriptor: Descriptor, manifest: [UInt8]) {
        let configType = format == .oci ? MediaType.ociConfig : MediaType.dockerConfig
        let (configBytes, configDescriptor) = try CanonicalJSON.blob(config, mediaType: configType)
        let manifest = ImageManifest(format: format, config: configDescriptor, layers: layers.map {
            var d = $0.descriptor
            d.mediaType = MediaType.convert(d.mediaType, to: format)
            return d
        }, annotations: annotations)
        return (configBytes, configDescriptor, try CanonicalJSON.encode(manifest))
    }

    /// Records (or updates) the facts of a layer blob already in the store.
    public func recordLayer(_ record: LayerRecord) throws {
        guard content.hasBlob(record.digest) else { throw StoreError.blobMissing(record.digest) }
        try locked { db in try upsertLayer(db, record, now: Date().timeIntervalSince1970) }
    }

    func upsertLayer(_ db: Database, _ r: LayerRecord, now: Double) throws {
        try db.execute(sql: """
            INSERT INTO layers(digest, diff_id, size, uncompressed_size, media_type, last_used) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(digest) DO UPDATE SET last_used = excluded.last_used,
                uncompressed_size = COALESCE(excluded.uncompressed_size, layers.uncompressed_size)
            """, arguments: [r.digest.description, r.diffID.description, r.size, r.uncompressedSize, r.mediaType, now])
    }

    func setTag(_ db: Database, _ ref: ImageReference, _ manifest: Digest, now: Double) throws {
        guard let tag = ref.tag else { throw StoreError.invalid("'\(ref)' has no tag to set") }
        let name = ref.with(digest: nil)
        try db.execute(sql: """
            INSERT INTO tags(reference, repository, tag, manifest_digest, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(reference) DO UPDATE SET manifest_digest = excluded.manifest_digest, updated_at = excluded.updated_at
            """, arguments: [name.description, ref.repository, tag, manifest.description, now])
    }

    /// Points `reference` (which must carry a tag) at `image`.
    public func tag(_ image: StoredImage, as reference: ImageReference) throws {
        try locked { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM images WHERE manifest_digest = ?", arguments: [image.manifestDigest.description]) == true else {
                throw StoreError.imageNotFound(image.manifestDigest.description)
            }
            try setTag(db, reference, image.manifestDigest, now: Date().timeIntervalSince1970)
        }
    }

    /// Removes a tag; returns false when it did not exist.
    @discardableResult
    public func untag(_ reference: ImageReference) throws -> Bool {
        try locked { db in
            try db.execute(sql: "DELETE FROM tags WHERE reference = ?", arguments: [reference.with(digest: nil).description])
            return db.changesCount > 0
        }
    }

    /// Deletes an image record and its tags; the blobs go at the next `collectGarbage`.
    public func removeImage(_ manifestDigest: Digest) throws {
        try locked { db in
            try db.execute(sql: "DELETE FROM images WHERE manifest_digest = ?", arguments: [manifestDigest.description])
            if db.changesCount == 0 { throw StoreError.imageNotFound(manifestDigest.description) }
        }
    }

    /// Marks an image as used now (for last-use ordering and pruning policies).
    public func touch(_ image: StoredImage) throws {
        try locked { db in
            try db.execute(sql: "UPDATE images SET last_used = ? WHERE manifest_digest = ?",
                           arguments: [Date().timeIntervalSince1970, image.manifestDigest.description])
        }
    }

    // MARK: queries

    public func images() throws -> [StoredImage] {
        try reading { db in try loadImages(db, where: "", arguments: []) }
    }

    /// The images whose config is `digest` (one image ID can have several manifests).
    public func images(configDigest digest: Digest) throws -> [StoredImage] {
        try reading { db in try loadImages(db, where: "WHERE config_digest = ?", arguments: [digest.description]) }
    }

    public func image(manifestDigest: Digest) throws -> StoredImage? {
        try reading { db in try loadImages(db, where: "WHERE manifest_digest = ?", arguments: [manifestDigest.description]).first }
    }

    /// Finds an image by name (`alpine`, `app:1.0`, `repo@sha256:…`), full ID or manifest digest
    /// (`sha256:…`), or an unambiguous prefix of an image ID, as `docker` does.
    public func resolve(_ string: String) throws -> StoredImage {
        let all = try images()
        if let d = try? Digest(parsing: string), d.algorithm == "sha256" {
            let hits = all.filter { $0.configDigest == d || $0.manifestDigest == d }
            if let best = Self.preferred(hits) { return best }
            throw StoreError.imageNotFound(string)
        }
        if let ref = try? ImageReference(parsing: string) {
            if let d = ref.digest {
                if let hit = all.first(where: { $0.manifestDigest == d }) { return hit }
            } else if let hit = all.first(where: { $0.tags.contains(ref) }) {
                return hit
            }
        }
        let lower = string.lowercased()
        if !lower.isEmpty, lower.utf8.allSatisfy(ImageReference.isLowerHex) {
            let hits = all.filter { $0.configDigest.encoded.hasPrefix(lower) }
            let ids = Set(hits.map(\.configDigest))
            if ids.count > 1 { throw StoreError.ambiguous(string, matches: ids.count) }
            if let best = Self.preferred(hits) { return best }
        }
        if case .failure(let e) = Result(catching: { try ImageReference(parsing: string) }) {
            throw StoreError.invalid("\(e)")
        }
        throw StoreError.imageNotFound(string)
    }

    /// Among images sharing an ID, the tagged and most recent one.
    static func preferred(_ images: [StoredImage]) -> StoredImage? {
        images.max { a, b in
            (a.tags.isEmpty ? 0 : 1, a.addedAt) < (b.tags.isEmpty ? 0 : 1, b.addedAt)
        }
    }

    /// How an image is named in errors: its first tag, else its ID.
    public static func displayName(_ image: StoredImage) -> String {
        image.tags.first?.familiar ?? image.id.description
    }

    /// What a blob of `image` is, for errors: "layer 2 of app:1", "the config of app:1".
    public static func blobRole(_ d: Digest, in image: StoredImage) -> String {
        let name = displayName(image)
        if let i = image.layers.firstIndex(of: d) { return "layer \(i + 1) of \(image.layers.count) of image \(name)" }
        if d == image.configDigest { return "the config of image \(name)" }
        if d == image.manifestDigest { return "the manifest of image \(name)" }
        return "a blob of image \(name)"
    }

    public func manifest(of image: StoredImage) throws -> ImageManifest {
        try ImageManifest.decode(try content.readBlob(image.manifestDigest), source: "manifest \(image.manifestDigest)")
    }

    public func config(of image: StoredImage) throws -> ImageConfig {
        try ImageConfig.decode(try content.readBlob(image.configDigest), source: "image config \(image.configDigest)")
    }

    public func layerRecords(of image: StoredImage) throws -> [LayerRecord] {
        try image.layers.map { d in
            guard let r = try layerRecord(digest: d) else { throw StoreError.blobMissing(d) }
            return r
        }
    }

    public func layerRecord(digest: Digest) throws -> LayerRecord? {
        try reading { db in
            try Row.fetchOne(db, sql: "SELECT * FROM layers WHERE digest = ?", arguments: [digest.description]).map(Self.layer)
        }
    }

    /// A stored layer blob whose uncompressed content has this diff ID (any compression).
    public func layerRecord(diffID: Digest) throws -> LayerRecord? {
        try reading { db in
            try Row.fetchOne(db, sql: "SELECT * FROM layers WHERE diff_id = ? ORDER BY last_used DESC", arguments: [diffID.description]).map(Self.layer)
        }
    }

    static func layer(_ row: Row) throws -> LayerRecord {
        LayerRecord(digest: try Digest(parsing: row["digest"]), diffID: try Digest(parsing: row["diff_id"]),
                    size: row["size"], uncompressedSize: row["uncompressed_size"], mediaType: row["media_type"])
    }

    func loadImages(_ db: Database, where clause: String, arguments: StatementArguments) throws -> [StoredImage] {
        let rows = try Row.fetchAll(db, sql: "SELECT * FROM images \(clause) ORDER BY added_at DESC", arguments: arguments)
        // Tags and layers of the selected images only: a lookup by digest stays cheap in a big store.
        let scope = clause.isEmpty ? "" : "WHERE manifest_digest IN (SELECT manifest_digest FROM images \(clause))"
        let scopeArguments: StatementArguments = clause.isEmpty ? [] : arguments
        var tagsByImage: [String: [ImageReference]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT reference, manifest_digest FROM tags \(scope) ORDER BY reference",
                                    arguments: scopeArguments) {
            if let ref = try? ImageReference(parsing: row["reference"] as String, defaultTag: false) {
                tagsByImage[row["manifest_digest"], default: []].append(ref)
            }
        }
        var layersByImage: [String: [Digest]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT manifest_digest, layer_digest FROM image_layers \(scope) ORDER BY manifest_digest, position",
                                    arguments: scopeArguments) {
            layersByImage[row["manifest_digest"], default: []].append(try Digest(parsing: row["layer_digest"]))
        }
        return try rows.map { row in
            let md: String = row["manifest_digest"]
            return StoredImage(
                manifestDigest: try Digest(parsing: md), configDigest: try Digest(parsing: row["config_digest"]),
                manifestMediaType: row["media_type"], manifestSize: row["manifest_size"],
                layers: layersByImage[md] ?? [], size: row["size"], storedSize: row["stored_size"],
                created: row["created"],
                platform: Platform(os: row["os"], architecture: row["architecture"], variant: row["variant"]),
                tags: tagsByImage[md] ?? [],
                addedAt: Date(timeIntervalSince1970: row["added_at"]),
                lastUsed: Date(timeIntervalSince1970: row["last_used"]))
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
