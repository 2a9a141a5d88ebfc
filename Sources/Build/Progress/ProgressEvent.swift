import Foundation
import OCI

/// What the engine reports while it builds. Renderers turn these into tty, plain or json output.
public enum ProgressEvent: Sendable {
    /// A step began; `name` reads like BuildKit's: `[builder 2/5] RUN go build ...`.
    case started(step: Int, name: String)
    /// A line the step's process wrote (stdout and stderr merged).
    case output(step: Int, line: String)
    /// The step was found in the build cache and skipped.
    case cached(step: Int, name: String)
    /// Why a step that runs missed the cache (`MissExplainer`), right after `started`.
    case miss(step: Int, reason: String)
    case finished(step: Int)
    case failed(step: Int, message: String)
    /// The layer a step produced or took from the cache: its compressed size in bytes.
    case layer(step: Int, bytes: Int64)
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
        case .cached(let id, let name): return .cached(step: id, name: DisplayText.escaped(name))
        case .miss(let id, let reason): return .miss(step: id, reason: DisplayText.escaped(reason))
        case .failed(let id, let message): return .failed(step: id, message: DisplayText.escaped(message, keepLineBreaks: true))
        case .note(let s): return .note(DisplayText.escaped(s))
        case .result(let id, let tags, let size): return .result(imageID: id, tags: tags.map { DisplayText.escaped($0) }, size: size)
        case .output, .finished, .layer, .cpu: return self
        }
    }
}

public enum ProgressMode: String, Sendable, CaseIterable {
    /// `rawjson`: BuildKit's SolveStatus objects (vertexes, logs), one per line, for tools that read them.
    case auto, tty, plain, json, quiet, rawjson
}

