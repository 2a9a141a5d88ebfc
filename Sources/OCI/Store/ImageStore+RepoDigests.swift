import Foundation
import GRDB

extension ImageStore {
    /// Records that the image was pushed to or pulled from `repository` (a reference's
    /// repository, `127.0.0.1:5000/app`), where the registry knows it as `digest` (for a pull by
    /// tag of an index, the index's digest, as docker shows it).
    public func recordRepoDigest(_ image: StoredImage, repository: ImageReference, digest: Digest) throws {
        try locked { db in
            try db.execute(sql: """
                INSERT INTO repo_digests(manifest_digest, repository, digest) VALUES (?, ?, ?)
                ON CONFLICT(manifest_digest, repository) DO UPDATE SET digest = excluded.digest
                """, arguments: [image.manifestDigest.description, repository.familiarRepository, digest.description])
        }
    }

    /// docker's `RepoDigests` of an image: `REPOSITORY@DIGEST` for each repository it was pushed
    /// to or pulled from, sorted; empty for an image that only ever lived here.
    public func repoDigests(of image: StoredImage) throws -> [String] {
        try reading { db in
            try Row.fetchAll(db, sql: "SELECT repository, digest FROM repo_digests WHERE manifest_digest = ? ORDER BY repository",
                             arguments: [image.manifestDigest.description])
                .map { "\($0["repository"] as String)@\($0["digest"] as String)" }
        }
    }
}
