/// Files, bytes: a tally used for added/modified/removed content.
public struct Tally: Sendable, Codable, Hashable {
    public var files: Int = 0
    public var bytes: Int64 = 0
    public init(files: Int = 0, bytes: Int64 = 0) {
        self.files = files
        self.bytes = bytes
    }
    mutating func add(_ size: Int64) {
        files += 1
        bytes += size
    }
    mutating func add(_ other: Tally) {
        files += other.files
        bytes += other.bytes
    }
}

/// What one layer did to the filesystem below it. Only non-directory objects are counted;
/// deleting a directory counts everything that was under it.
public struct LayerChanges: Sendable, Codable, Hashable {
    public var added = Tally()
    public var modified = Tally()
    public var removed = Tally()
    /// Present below with identical type, content, mode and owner (rewritten but not changed).
    public var unchanged = Tally()
    /// Where the added and modified bytes went: the largest directories (at most five, grouped
    /// three levels deep).
    public var topDirectories: [DirectoryBytes] = []
    public init() {}
}

/// The merged view of an image's layers with OCI whiteout semantics (`.wh.NAME` deletes NAME,
/// `.wh..wh..opq` hides everything from lower layers under its directory).
final class Filesystem {
    final class Node {
        var entry: LayerEntry?
        var layer: Int
        var children: [String: Node] = [:]
        init(entry: LayerEntry?, layer: Int) {
            self.entry = entry
            self.layer = layer
        }

        /// Non-directory objects in this subtree (the node itself included).
        func tally(into tally: inout Tally) {
            if let entry, entry.kind != .directory { tally.add(entry.size) }
            for child in children.values { child.tally(into: &tally) }
        }
    }

    let root = Node(entry: nil, layer: -1)

    private func node(at path: String, create: Bool, layer: Int) -> Node? {
        var node = root
        for name in path.split(separator: "/") {
            let key = String(name)
            if let child = node.children[key] {
                node = child
            } else if create {
                let child = Node(entry: nil, layer: layer)
                node.children[key] = child
                node = child
            } else {
                return nil
            }
        }
        return node
    }

    /// Applies one layer and reports what it changed.
    @discardableResult
    func apply(_ entries: [LayerEntry], layer: Int) -> LayerChanges {
        var changes = LayerChanges()
        var written: [String: Tally] = [:]
        func note(_ entry: LayerEntry) {
            let parts = entry.path.split(separator: "/").dropLast()
            written["/" + parts.prefix(3).joined(separator: "/"), default: Tally()].add(entry.size)
        }
        // Deletions refer to lower layers, so they go first.
        for entry in entries where entry.isOpaqueMarker {
            if let dir = node(at: entry.parent, create: false, layer: layer) {
                for child in dir.children.values where child.layer < layer {
                    child.tally(into: &changes.removed)
                }
                dir.children = dir.children.filter { $0.value.layer >= layer }
            }
        }
        for entry in entries {
            guard let target = entry.whiteoutTarget else { continue }
            let parentPath = entry.parent
            guard let parent = node(at: parentPath, create: false, layer: layer) else { continue }
            let name = String(target.split(separator: "/").last ?? "")
            if let victim = parent.children[name] {
                victim.tally(into: &changes.removed)
                parent.children[name] = nil
            }
        }
        for entry in entries where !entry.isOpaqueMarker && !entry.isWhiteout && !entry.path.isEmpty {
            let existing = node(at: entry.path, create: false, layer: layer)
            let previous = existing?.entry
            let target = existing ?? node(at: entry.path, create: true, layer: layer)
            guard let target else { continue }
            if entry.kind != .directory {
                if let previous, previous.kind != .directory {
                    if previous.kind == entry.kind, previous.contentHash == entry.contentHash,
                       previous.mode == entry.mode, previous.uid == entry.uid, previous.gid == entry.gid,
                       previous.linkTarget == entry.linkTarget, previous.size == entry.size {
                        changes.unchanged.add(entry.size)
                    } else {
                        changes.modified.add(entry.size)
                        note(entry)
                    }
                } else {
                    if let existing, previous?.kind == .directory {
                        // A file replaces a directory: its content is gone.
                        for child in existing.children.values { child.tally(into: &changes.removed) }
                        existing.children = [:]
                    }
                    changes.added.add(entry.size)
                    note(entry)
                }
            } else if let previous, previous.kind != .directory {
                changes.removed.add(previous.size)
            }
            target.entry = entry
            target.layer = layer
        }
        changes.topDirectories = written
            .map { DirectoryBytes(path: $0.key, bytes: $0.value.bytes, files: $0.value.files) }
            .sorted { ($0.bytes, $1.path) > ($1.bytes, $0.path) }
            .prefix(5).map { $0 }
        return changes
    }

    /// Every object in the merged filesystem, with its absolute path, in path order.
    func files() -> [FileRecord] {
        var result: [FileRecord] = []
        func walk(_ node: Node, _ prefix: String) {
            for key in node.children.keys.sorted() {
                guard let child = node.children[key] else { continue }
                let path = prefix + "/" + key
                let entry = child.entry ?? LayerEntry(path: path, kind: .directory)
                result.append(FileRecord(path: path, kind: entry.kind, size: entry.size, mode: entry.mode,
                                         uid: entry.uid, gid: entry.gid, contentHash: entry.contentHash,
                                         linkTarget: entry.linkTarget, layer: child.layer,
                                         executable: entry.executable))
                walk(child, path)
            }
        }
        walk(root, "")
        return result
    }
}

/// One object of an image's final filesystem.
public struct FileRecord: Sendable, Codable, Hashable {
    /// Absolute path, e.g. `/usr/bin/gcc`.
    public var path: String
    public var kind: EntryKind
    public var size: Int64
    public var mode: UInt32
    public var uid: Int
    public var gid: Int
    public var contentHash: UInt64
    public var linkTarget: String
    /// Index of the layer that last wrote it.
    public var layer: Int
    public var executable: ExecutableFormat?
}
