/// A COPY/ADD failure, reported as `Dockerfile:LINE: COPY failed: ...` so the user sees which
/// instruction and what to fix.
public struct CopyError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A literal source that is missing (or hidden by .dockerignore).
        case notFound(path: String, inContext: Bool)
        /// A source reached through a symlink that leads out of the context.
        case outsideContext(ContextError)
        /// Several sources but the destination is a file.
        case destinationNotDirectory(destination: String)
        case unknownUser(name: String)
        case unknownGroup(name: String)
        case invalidChown(String)
        case invalidChmod(String)
        /// A file would replace a directory, or a directory would go where a file is.
        case typeConflict(String)
        case checksumMismatch(url: String, expected: String, actual: String)
        case download(url: String, message: String)
        case invalidOption(String)
        case io(String)
    }

    public let kind: Kind
    public let instruction: String
    public let line: Int
    public let dockerfile: String

    public init(_ kind: Kind, instruction: String, line: Int, dockerfile: String = "Dockerfile") {
        self.kind = kind
        self.instruction = instruction
        self.line = line
        self.dockerfile = dockerfile
    }

    public var description: String {
        "\(dockerfile):\(line): \(instruction) failed: " + detail
    }

    public var detail: String {
        switch kind {
        case .notFound(let path, let inContext):
            let shown = "/" + ScopedPath.cleanComponents(path).joined(separator: "/")
            return inContext
                ? "file not found in build context or excluded by .dockerignore: stat \(shown): file does not exist"
                : "file not found: stat \(shown): file does not exist"
        case .outsideContext(let e):
            return "\(e); sources must stay inside the build context (copy the target instead of linking to it)"
        case .destinationNotDirectory(let d):
            return "when using \(instruction) with more than one source file, the destination must be a directory and end with a / (got \"\(d)\")"
        case .unknownUser(let n):
            return "unable to find user \(n): no matching entries in passwd file of the destination"
        case .unknownGroup(let n):
            return "unable to find group \(n): no matching entries in group file of the destination"
        case .invalidChown(let s):
            return "invalid --chown value \"\(s)\": expected USER[:GROUP] with names or numeric ids"
        case .invalidChmod(let s):
            return "invalid chmod parameter: '\(s)'. it should be octal string and between 0 and 07777, or a symbolic mode such as u+x,go=rX"
        case .typeConflict(let s):
            return s
        case .checksumMismatch(let url, let expected, let actual):
            return "checksum mismatch for \(url): expected \(expected), got \(actual)"
        case .download(let url, let message):
            return "failed to download \(url): \(message)"
        case .invalidOption(let s):
            return s
        case .io(let s):
            return s
        }
    }
}
