import Foundation
import Testing
import TestSupport

/// BuildKit's parser and shell test vectors in `../shared/conformance/buildkit` (see
/// `Host.conformance`). Tests that read them require `.buildkitConformance`.
enum Conformance {
    static let buildkit: URL? = Host.conformance("buildkit").map { URL(fileURLWithPath: $0) }

    /// The BuildKit data (the suites that call this require `.buildkitConformance`).
    static func buildkitRoot() throws -> URL {
        try #require(buildkit, "../shared/conformance/buildkit is absent")
    }

    static func directories(_ url: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.sorted().map { url.appendingPathComponent($0) }
    }
}

extension Prerequisite {
    static let buildkitConformance = Prerequisite.conformance("buildkit")
}
