import Foundation
import OCI

/// What the engine reports while it builds. Renderers turn these into tty, plain or json output.
public enum ProgressEvent: Sendable {
    /// A step began; `name` reads like BuildKit's: `[builder 2/5] RUN go build ...`.
    case started(step: Int, name: String)
    /// A line the step's process wrote (stdout and stderr merged).
    case output(step: Int, line: String)
    /// The step was found in the build cache and skipped. `importedFrom`: nil when the record
    /// was written by a build in this store (a local hit), else the `--cache-from` cache it
    /// was imported from (`CacheRecord.origin`).
    case cached(step: Int, name: String, importedFrom: String?)
    /// Why a step that runs missed the cache (`MissExplainer`), right after `started`.
    case miss(step: Int, reason: String)
    case finished(step: Int)
    case failed(step: Int, message: String)
    /// The layer a step produced or took from the cache: its compressed size in bytes, and the
    /// bytes of its uncompressed tar — what the step wrote (nil when the store does not know it).
    case layer(step: Int, bytes: Int64, uncompressedBytes: Int64?)
    /// One record a `--cache-to` export wrote, and what it cost (after the build).
    case cacheExported(CacheExportCost)
    /// The CPU time (user + system) a RUN step's processes used.
    case cpu(step: Int, seconds: Double)
    /// A note that belongs to no step (e.g. "writing image").
    case note(String)
    /// The final result: the last line of every build.
    case result(imageID: String, tags: [String], size: Int64)
}

extension ProgressEvent {
    /// The event with the untrusted text in step names, errors and notes (file names, words
    /// from the Dockerfile, names from archives) escaped for a terminal (`DisplayText`). A
    /// step's own output is the program's and passes as it is, colours included, as in BuildKit.
    var forTerminal: ProgressEvent {
        switch self {
        case .started(let id, let name): return .started(step: id, name: DisplayText.escaped(name))
        case .cached(let id, let name, let from): return .cached(step: id, name: DisplayText.escaped(name), importedFrom: from.map { DisplayText.escaped($0) })
        case .miss(let id, let reason): return .miss(step: id, reason: DisplayText.escaped(reason))
        case .failed(let id, let message): return .failed(step: id, message: DisplayText.escaped(message, keepLineBreaks: true))
        case .note(let s): return .note(DisplayText.escaped(s))
        case .result(let id, let tags, let size): return .result(imageID: id, tags: tags.map { DisplayText.escaped($0) }, size: size)
        case .output, .finished, .layer, .cpu, .cacheExported: return self
        }
    }
}

/// One exported cache record's cost (`RegistryCache.ExportReport.Record`, as the CLI hands it
/// to the reporter): where it went, its layer, the layer's bytes, what happened to them
/// (`uploaded`, `written`, `mounted`, `present`, `no-layer`) and the time its layer took.
public struct CacheExportCost: Sendable, Equatable {
    public var destination: String
    public var key: String
    public var layer: String?
    public var bytes: Int64
    public var state: String
    public var seconds: Double

    public init(destination: String, key: String, layer: String?, bytes: Int64, state: String, seconds: Double) {
        self.destination = destination
        self.key = key
        self.layer = layer
        self.bytes = bytes
        self.state = state
        self.seconds = seconds
    }

    /// As `--metadata-file` and `--progress json` write it.
    public var jsonObject: [String: Any] {
        var o: [String: Any] = ["destination": destination, "key": key, "bytes": bytes, "state": state,
                                "seconds": (seconds * 1000).rounded() / 1000]
        if let layer { o["layer"] = layer }
        return o
    }
}

public enum ProgressMode: String, Sendable, CaseIterable {
    /// `rawjson`: BuildKit's SolveStatus objects (vertexes, logs), one per line, for tools that read them.
    case auto, tty, plain, json, quiet, rawjson
}

