/// Errors reading the build context or another source root. The copy layer adds the
/// Dockerfile line; these carry the paths involved.
public enum ContextError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A symlink on the way to `path` leads outside the root (`link` → `target`).
    case escapesRoot(path: String, link: String, target: String)
    case symlinkLoop(path: String)
    case notADirectory(path: String, reason: String)
    case badPattern(String)
    case invalidIgnoreFile(path: String, message: String)
    case io(FileSystemError)

    public var description: String {
        switch self {
        case .escapesRoot(let path, let link, let target):
            if link.isEmpty {
                return "source path \"\(path)\" resolves outside the build context"
            }
            return "source path \"\(path)\" resolves outside the build context: symlink \"\(link)\" points to \"\(target)\""
        case .symlinkLoop(let path):
            return "too many levels of symbolic links resolving \"\(path)\""
        case .notADirectory(let path, let reason):
            return "build context \"\(path)\" is not a usable directory: \(reason)"
        case .badPattern(let p):
            return "malformed wildcard pattern \"\(p)\""
        case .invalidIgnoreFile(let path, let message):
            return "\(path): \(message)"
        case .io(let e):
            return e.description
        }
    }
}
