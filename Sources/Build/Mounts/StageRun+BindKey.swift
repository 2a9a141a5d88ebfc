import OCI

extension StageRun {
    /// The cache-key text of a bind mount `from=` a stage or image. BuildKit's ExecOp keys a
    /// read-only (or output-less, as Dockerfile rw binds are) mount by a content checksum of its
    /// selector, so a rebuilt stage with identical files at `source` keeps the RUN cached; we do
    /// the same through the `--from` selection memo. The whole root (`source=/`, the default)
    /// stays keyed by the stage's cache key / image ID: hashing an entire root filesystem each
    /// time the stage changes would cost more than the rare hit it could give.
    func stageBindKey(_ path: String, source: Source, line: Int, fail: (String) -> BuildError) async throws -> String {
        let cleaned = Self.contextRelative(path)
        guard cleaned != "." else { return source.identity }
        do {
            return "content=" + (try await contentDigest(.selection(["/" + cleaned], line: line), source: source)).description
        } catch let e as CopyError {
            if case .notFound = e.kind {
                throw fail("--mount=type=bind: source \(path) not found in \(source.name)")
            }
            throw fail("--mount=type=bind,source=\(path): \(e.detail)")
        }
    }
}
