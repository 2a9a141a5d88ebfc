/// Why a build failed. Every case names the Dockerfile line and says what to do.
public enum BuildError: Error, CustomStringConvertible {
    /// `pullError`: why the implicit pull of the missing image failed, when one was tried.
    case missingBaseImage(file: String, line: Int, reference: String, pullError: String? = nil)
    /// `note`: a likely cause the executor saw (the scratch filesystem is full).
    case runFailed(file: String, line: Int, command: String, status: Int32, tail: [String], note: String? = nil)
    case stepFailed(file: String, line: Int, instruction: String, reason: String)
    case unknownTarget(String, available: [String])
    case invalidBuildArg(String)
    case cancelled
    /// An error from another module whose text already names the file and line.
    case located(String)

    public var description: String {
        switch self {
        case .missingBaseImage(let f, let l, let r, let pullError):
            let pulled = pullError.map { " and pulling it failed (\($0))" } ?? ""
            return "\(f):\(l): base image \"\(r)\" is not in the store\(pulled); import it (`slipway import`) or pull it (`slipway pull \(r)`)"
        case .runFailed(let f, let l, let c, let s, let tail, let note):
            var msg = "\(f):\(l): RUN \(c)\n  exited with code \(s)"
            if !tail.isEmpty {
                msg += "; last output:\n" + tail.map { "    " + $0 }.joined(separator: "\n")
            }
            if let note { msg += "\n  note: " + note }
            return msg
        case .stepFailed(let f, let l, let i, let r):
            return "\(f):\(l): \(i): \(r)"
        case .unknownTarget(let t, let names):
            return "target stage \"\(t)\" not found; stages: \(names.isEmpty ? "(none named)" : names.joined(separator: ", "))"
        case .invalidBuildArg(let a):
            return "invalid --build-arg \"\(a)\": use NAME=VALUE (or NAME to take the value from the environment)"
        case .cancelled:
            return "build cancelled"
        case .located(let m):
            return m
        }
    }
}
