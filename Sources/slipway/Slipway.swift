import ArgumentParser

/// The `slipway` command. Each subcommand lives in its own file; add new ones to the list below,
/// and give each an explicit `commandName` (deriving it costs a runtime type lookup per start).
/// The program starts in `SlipwayMain`.
struct Slipway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slipway",
        abstract: "A daemonless container image builder: builds Dockerfiles into OCI images and measures them.",
        version: "0.1.0",
        subcommands: [
            BuildCommand.self,
            RunCommand.self,
            ImagesCommand.self,
            HistoryCommand.self,
            InspectCommand.self,
            TagCommand.self,
            RmiCommand.self,
            PullCommand.self,
            PushCommand.self,
            LoginCommand.self,
            LogoutCommand.self,
            ImportCommand.self,
            SaveCommand.self,
            LoadCommand.self,
            AnalyzeCommand.self,
            CompareCommand.self,
            LintCommand.self,
            Outline.self,
            CacheCommand.self,
            FsckCommand.self,
            PruneCommand.self,
            BuilderCommand.self,
            SystemCommand.self,
            Debug.self,
        ]
    )
}

/// Developer tools that expose internals (parse trees and so on).
struct Debug: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug",
        abstract: "Inspect Slipway's internals.",
        subcommands: [
            DebugParse.self,
            DebugExpand.self,
            DebugIgnore.self,
            DebugContext.self,
        ]
    )
}
