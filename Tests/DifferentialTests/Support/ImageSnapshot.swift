import Foundation
import Inspect
import OCI

/// What the suite compares of one built image: the merged file tree and the config fields and
/// history BuildKit sets. Read from an image archive with `Inspect`'s `ImageLoader` (the store's
/// verified `load`) and `Analyzer.finalFilesystem` (OCI whiteouts and opaque directories), the
/// same code `slipway analyze` and `compare` use.
struct ImageSnapshot: Sendable {
    /// Path → what the tree holds there.
    var files: [String: FileFacts]
    /// Config field name → its JSON text ("absent" when unset), for `ConfigFields.names`.
    var config: [String: String]
    var history: [HistoryStep]

    /// Reads an archive (`slipway save` OCI/docker archive, `docker save` docker-archive),
    /// loading it into `readStore`, which keeps the layers it has seen (the bases) for the next.
    static func load(archive: String, readStore: String) async throws -> ImageSnapshot {
        let image = try await ImageLoader.load("docker-archive:" + archive, storeRoot: readStore, archiveStore: readStore)
        var files: [String: FileFacts] = [:]
        for record in Analyzer.finalFilesystem(image) { files[record.path] = FileFacts(record) }
        let config = image.config
        return ImageSnapshot(files: files, config: ConfigFields.values(config),
                             history: (config?.history ?? []).map {
                                 HistoryStep(createdBy: $0.createdBy ?? "", emptyLayer: $0.emptyLayer == true)
                             })
    }
}

/// One object of the tree: what the comparison looks at (never times).
struct FileFacts: Sendable, Hashable {
    var kind: String
    var mode: UInt32
    var uid: Int
    var gid: Int
    var linkTarget: String
    /// sha256 prefix of a regular file's content (0 for anything else).
    var content: UInt64
    var size: Int64

    init(kind: String, mode: UInt32, uid: Int, gid: Int, linkTarget: String = "", content: UInt64 = 0, size: Int64 = 0) {
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.linkTarget = linkTarget
        self.content = content
        self.size = size
    }

    init(_ record: FileRecord) {
        self.init(kind: record.kind.rawValue, mode: record.mode, uid: record.uid, gid: record.gid,
                  linkTarget: record.linkTarget, content: record.kind == .file ? record.contentHash : 0,
                  size: record.kind == .file ? record.size : 0)
    }

    /// Attribute name → printable value, in a fixed order (what a difference report names).
    var attributes: [(String, String)] {
        [("type", kind), ("mode", String(mode, radix: 8)), ("uid", "\(uid)"), ("gid", "\(gid)"),
         ("link", linkTarget), ("content", String(content, radix: 16)), ("size", "\(size)")]
    }
}

struct HistoryStep: Sendable, Hashable, Codable {
    var createdBy: String
    var emptyLayer: Bool
}

/// The image config fields compared, with their Docker JSON names.
enum ConfigFields {
    static let names = ["Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Healthcheck",
                        "Labels", "Volumes", "StopSignal", "Shell", "OnBuild", "os", "architecture"]

    /// Each field as canonical JSON; unset and empty are the same ("absent"), as docker prints both as null.
    static func values(_ config: ImageConfig?) -> [String: String] {
        let c = config?.config
        func json<T: Encodable>(_ value: T?) -> String {
            guard let value, let bytes = try? CanonicalJSON.encode(value) else { return "absent" }
            let text = String(decoding: bytes, as: UTF8.self)
            return ["[]", "{}", "\"\""].contains(text) ? "absent" : text
        }
        return [
            "Env": json(c?.env), "Cmd": json(c?.cmd), "Entrypoint": json(c?.entrypoint),
            "WorkingDir": json(c?.workingDir), "User": json(c?.user), "ExposedPorts": json(c?.exposedPorts),
            "Healthcheck": json(c?.healthcheck), "Labels": json(c?.labels), "Volumes": json(c?.volumes),
            "StopSignal": json(c?.stopSignal), "Shell": json(c?.shell), "OnBuild": json(c?.onBuild),
            "os": json(config?.os), "architecture": json(config?.architecture),
        ]
    }
}
