/// Decides which context paths a build may see (the .dockerignore rules).
///
/// Paths are relative to the context root, `/`-separated, without a leading `./` or `/`.
/// The Dockerfile module's ignore matcher is adapted to this protocol; the walk only needs
/// these two questions, so it does not depend on how patterns are written.
public protocol PathFilter: Sendable {
    /// Whether `path` is part of the context.
    func includes(_ path: String) -> Bool
    /// Whether anything at or below directory `dir` can be included. Returning `false`
    /// lets the walk skip the whole subtree without reading it.
    func mightIncludeUnder(_ dir: String) -> Bool
}

/// The filter of a context without a .dockerignore: everything is visible.
public struct IncludeEverything: PathFilter {
    public init() {}
    public func includes(_ path: String) -> Bool { true }
    public func mightIncludeUnder(_ dir: String) -> Bool { true }
}
