import Dockerfile
import Foundation
import System

/// The Dockerfile module's .dockerignore matcher answers exactly the two questions the
/// context walk asks, with BuildKit's semantics (`!` exceptions re-enter excluded directories
/// only when they name a path inside them).
extension IgnoreMatcher: PathFilter {}

extension BuildContext {
    /// Opens a build's context the way BuildKit does: `<Dockerfile>.dockerignore` next to the
    /// Dockerfile wins over the context's `.dockerignore`; patterns use the Dockerfile module's
    /// `IgnoreMatcher` (moby/patternmatcher semantics). A malformed pattern is an error naming
    /// the ignore file.
    public static func forBuild(contextDirectory: String, dockerfilePath: String?) throws -> BuildContext {
        var specific: String?
        if let df = dockerfilePath, df != "-" {
            specific = try? String(contentsOfFile: df + ".dockerignore", encoding: .utf8)
        }
        let general = try? String(contentsOfFile: FileSystem.join(contextDirectory, ".dockerignore"), encoding: .utf8)
        let matcher: IgnoreMatcher
        do {
            matcher = try IgnoreMatcher.forBuild(dockerfileSpecific: specific, contextIgnore: general)
        } catch {
            let file = specific != nil ? (dockerfilePath ?? "") + ".dockerignore" : FileSystem.join(contextDirectory, ".dockerignore")
            throw ContextError.invalidIgnoreFile(path: file, message: "\(error)")
        }
        // No patterns: `IncludeEverything`, which callers (bind mounts of the context) take as
        // "nothing hidden" without walking the tree.
        if matcher.patterns.isEmpty { return try BuildContext(directory: contextDirectory) }
        return try BuildContext(directory: contextDirectory, filter: matcher)
    }
}

extension BuildContext {
    /// Opens a named local context (`--build-context NAME=DIR`) the way BuildKit's dockerui
    /// does: only `DIR/.dockerignore` applies (never a Dockerfile-specific ignore file, which
    /// belongs to the main context), and files land owned by root like the main context's
    /// (BuildKit's client resets their uid/gid when it sends them). A malformed pattern is an
    /// error naming the ignore file.
    public static func named(directory: String) throws -> BuildContext {
        let path = FileSystem.join(directory, ".dockerignore")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), !text.isEmpty else {
            return try BuildContext(directory: directory)
        }
        let matcher: IgnoreMatcher
        do {
            matcher = try IgnoreMatcher(ignoreFile: text)
        } catch {
            throw ContextError.invalidIgnoreFile(path: path, message: "\(error)")
        }
        return try BuildContext(directory: directory, filter: matcher)
    }
}
