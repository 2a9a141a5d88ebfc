/// A per-layer file tree with exactly the quirks of dive's `filetree.FileTree`, so that the
/// efficiency figures match dive to the last digit. Nodes created implicitly for a path's
/// parents carry an empty payload (size 0, not a directory), as in dive; whiteout entries stay
/// in the tree under their `.wh.` name; opaque markers are not added at all.
final class DiveNode {
    struct Payload {
        var size: Int64 = 0
        var isDir = false
    }

    let name: String
    weak var parent: DiveNode?
    var payload = Payload()
    var children: [String: DiveNode] = [:]

    init(name: String, parent: DiveNode?) {
        self.name = name
        self.parent = parent
    }

    var isLeaf: Bool { children.isEmpty }
    var isWhiteout: Bool { name.hasPrefix(".wh.") }

    /// The node's path with `.wh.` stripped from its own name (dive's `FileNode.Path`).
    var path: String {
        var parts: [String] = []
        var node: DiveNode? = self
        while let current = node, current.parent != nil {
            var part = current.name
            if current === self, part.hasPrefix(".wh.") { part.removeFirst(4) }
            parts.append(part)
            node = current.parent
        }
        return "/" + parts.reversed().joined(separator: "/")
    }

    func sortedChildren() -> [DiveNode] {
        children.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.compactMap { children[$0] }
    }

    /// Depth-first, children before parents, names in byte order. Stops at the first `false`.
    @discardableResult
    func visitChildFirst(includeSelf: Bool, _ visit: (DiveNode) -> Bool) -> Bool {
        for child in sortedChildren() where !child.visitChildFirst(includeSelf: true, visit) {
            return false
        }
        return includeSelf ? visit(self) : true
    }

    func copy(parent: DiveNode?) -> DiveNode {
        let node = DiveNode(name: name, parent: parent)
        node.payload = payload
        for (key, child) in children { node.children[key] = child.copy(parent: node) }
        return node
    }
}

final class DiveTree {
    let root = DiveNode(name: "", parent: nil)

    init() {}

    init(entries: [LayerEntry]) {
        for entry in entries where !entry.path.isEmpty {
            add(path: entry.path, payload: .init(size: entry.size, isDir: entry.kind == .directory))
        }
    }

    func copy() -> DiveTree {
        let tree = DiveTree()
        for (key, child) in root.children { tree.root.children[key] = child.copy(parent: tree.root) }
        return tree
    }

    func add(path: String, payload: DiveNode.Payload) {
        let names = path.split(separator: "/").map(String.init)
        var node = root
        for (index, name) in names.enumerated() {
            if let existing = node.children[name] {
                node = existing
            } else {
                if name.hasPrefix(".wh..wh..") { return }
                let child = DiveNode(name: name, parent: node)
                node.children[name] = child
                node = child
            }
            if index == names.count - 1 { node.payload = payload }
        }
    }

    func node(at path: String) -> DiveNode? {
        var node = root
        for name in path.split(separator: "/") {
            guard let child = node.children[String(name)] else { return nil }
            node = child
        }
        return node
    }

    func remove(path: String) {
        guard let node = node(at: path), let parent = node.parent else { return }
        parent.children[node.name] = nil
    }

    /// dive's `Stack`: graft every node of `upper` (children first); whiteouts delete.
    func stack(_ upper: DiveTree) {
        upper.root.visitChildFirst(includeSelf: false) { node in
            if node.isWhiteout {
                remove(path: node.path)
            } else {
                add(path: node.path, payload: node.payload)
            }
            return true
        }
    }
}
