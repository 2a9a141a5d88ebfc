/// A path that costs space more than once: it appears in several layers (overwritten, or
/// deleted by a later whiteout). dive calls these "inefficiencies".
public struct WastedPath: Sendable, Hashable, Codable {
    /// Absolute path, e.g. `/root/saved.txt`.
    public var path: String
    /// How many layers hold this path (including deletions).
    public var count: Int
    /// The bytes of every copy together (dive's `CumulativeSize`).
    public var cumulativeSize: Int64
}

/// dive's image-efficiency figures, with dive's exact definitions (`dive/filetree/efficiency.go`,
/// `dive/image/analysis.go`).
public struct EfficiencyReport: Sendable, Codable, Hashable {
    /// Σ smallest size seen per path / Σ all sizes seen per path (1 when no bytes).
    public var efficiency: Double
    /// Σ of the sizes in every layer's tar headers.
    public var sizeBytes: Int64
    /// `sizeBytes` without the first layer (dive's notion of "the base image").
    public var userSizeBytes: Int64
    /// Σ cumulative size of the paths that appear in two or more layers.
    public var wastedBytes: Int64
    /// `wastedBytes / userSizeBytes` (0 when there are no user bytes).
    public var wastedUserPercent: Double
    /// The wasted paths, largest first.
    public var inefficiencies: [WastedPath]
}

public enum Efficiency {
    /// Computes dive's figures for the layers, bottom-up.
    public static func compute(layers: [LayerInput]) -> EfficiencyReport {
        let trees = layers.map { DiveTree(entries: $0.entries) }
        var sums: [String: (cumulative: Int64, minimum: Int64, count: Int)] = [:]
        var order: [String] = []

        // The tree stacked from the layers below the one being visited; dive rebuilds it per
        // whiteout as StackTreeRange(trees, 0, index-1), which starts from a copy of layer 0.
        let stacked = trees.first?.copy()

        for (index, tree) in trees.enumerated() {
            if index >= 1 { stacked?.stack(trees[index - 1]) }
            tree.root.visitChildFirst(includeSelf: false) { node in
                guard node.isLeaf else { return true }
                let path = node.path
                var size: Int64 = 0
                if node.isWhiteout {
                    // dive aborts the rest of this layer when the deleted path is unknown.
                    guard let previous = stacked?.node(at: path) else { return false }
                    if previous.payload.isDir {
                        previous.visitChildFirst(includeSelf: true) { size += $0.payload.size; return true }
                    }
                } else {
                    size = node.payload.size
                }
                if var data = sums[path] {
                    data.cumulative += size
                    data.minimum = min(data.minimum, size)
                    data.count += 1
                    sums[path] = data
                } else {
                    sums[path] = (size, size, 1)
                    order.append(path)
                }
                return true
            }
        }

        var minimumTotal: Int64 = 0
        var cumulativeTotal: Int64 = 0
        var wasted: [WastedPath] = []
        for path in order {
            guard let data = sums[path] else { continue }
            minimumTotal += data.minimum
            cumulativeTotal += data.cumulative
            if data.count >= 2 {
                wasted.append(WastedPath(path: path, count: data.count, cumulativeSize: data.cumulative))
            }
        }
        wasted.sort { ($0.cumulativeSize, $1.path) > ($1.cumulativeSize, $0.path) }

        let sizes = layers.map(\.size)
        let sizeBytes = sizes.reduce(0, +)
        let userSizeBytes = sizes.dropFirst().reduce(0, +)
        let wastedBytes = wasted.reduce(0) { $0 + $1.cumulativeSize }
        return EfficiencyReport(
            efficiency: cumulativeTotal == 0 ? 1.0 : Double(minimumTotal) / Double(cumulativeTotal),
            sizeBytes: sizeBytes,
            userSizeBytes: userSizeBytes,
            wastedBytes: wastedBytes,
            wastedUserPercent: userSizeBytes == 0 ? 0 : Double(wastedBytes) / Double(userSizeBytes),
            inefficiencies: wasted)
    }
}
