import Foundation
import System

/// An inline file of `COPY <<EOF /dest` (the parser gives its name and expanded content).
public struct HeredocSource: Sendable, Hashable {
    public var name: String
    public var content: String
    public init(name: String, content: String) {
        self.name = name
        self.content = content
    }
}

extension Copier {
    /// Writes heredoc files to the destination as BuildKit does: each becomes a 0644 file
    /// (then --chmod/--chown apply) named after its delimiter, placed by the usual destination
    /// rules (`COPY <<EOF /file` writes `/file`; `COPY <<a <<b /dir/` writes `/dir/a`, `/dir/b`).
    @discardableResult
    public static func writeHeredocs(_ docs: [HeredocSource], spec: CopySpec, into target: String) throws -> CopyReport {
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-heredoc-\(UUID().uuidString)").path
        guard mkdir(staging, 0o700) == 0 else { throw spec.error(.io("cannot create a staging directory")) }
        defer { try? FileManager.default.removeItem(atPath: staging) }
        var names: [String] = []
        for doc in docs {
            let name = ScopedPath.cleanComponents(doc.name).last ?? "__heredoc__"
            let path = FileSystem.join(staging, name)
            guard FileManager.default.createFile(atPath: path, contents: Data(doc.content.utf8)) else {
                throw spec.error(.io("cannot stage heredoc \(doc.name)"))
            }
            chmod(path, 0o644)
            names.append(name)
        }
        let ctx: BuildContext
        do { ctx = try BuildContext(stageRootfs: staging) } catch { throw spec.error(.io("\(error)")) }
        var inner = spec
        inner.sources = names
        inner.isAdd = false
        // Staged files are ours; like context files they land owned by root unless --chown.
        let root: String
        do { root = try ScopedPath.canonicalDirectory(target) } catch { throw spec.error(.io("\(error)")) }
        let (owner, mode) = try options(spec, target: root)
        let writer = TreeWriter(root: root, spec: spec, source: ctx, owner: owner ?? Ownership(uid: 0, gid: 0),
                                mode: mode, excludes: nil)
        let (dest, destIsDir) = spec.resolvedDestination
        if names.count > 1 && !destIsDir {
            throw spec.error(.destinationNotDirectory(destination: spec.destination))
        }
        try writer.mkdirAll(destIsDir ? dest : parentPath(dest))
        for name in names {
            guard let src = try ctx.lookup(name) else { continue }
            try writer.copyTop(src, destination: dest)
        }
        return CopyReport(entries: writer.count, archivesUnpacked: 0)
    }
}
