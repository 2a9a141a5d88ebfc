import Dockerfile

/// The Dockerfile module's .dockerignore matcher answers exactly the two questions the
/// context walk asks, with BuildKit's semantics (`!` exceptions re-enter excluded directories
/// only when they name a path inside them).
extension IgnoreMatcher: PathFilter {}
