/// What a RUN executes, after BuildKit's heredoc rules (dockerfile2llb `dispatchRun`).
public enum RunProgram: Sendable, Equatable {
    /// Exec form: run these arguments as they are.
    case exec([String])
    /// Run this text with the stage's SHELL (default `/bin/sh -c <text>`).
    case shell(String)
    /// A single heredoc starting with `#!`: write `content` to a file named `name`
    /// (mode 0755, BuildKit mounts it read-only under `/dev/pipes/`) and execute that file.
    case script(name: String, content: String)
}

extension Run {
    /// The program this RUN executes. A lone heredoc (`RUN <<EOF`) becomes the shell script
    /// itself (or an executable file when it starts with `#!`); any other heredoc use is
    /// handed to the shell with the bodies appended, as BuildKit does.
    public var program: RunProgram {
        switch command {
        case .exec(let args):
            return .exec(args)
        case .shell(let text):
            guard let first = heredocs.first else { return .shell(text) }
            if (try? Heredocs.parse(text)) ?? nil != nil {
                let data = first.effectiveContent
                if data.hasPrefix("#!") { return .script(name: first.name, content: data) }
                return .shell(data)
            }
            var s = text
            for h in heredocs {
                s += "\n" + h.content + h.name
            }
            return .shell(s)
        }
    }
}
