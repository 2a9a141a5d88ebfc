import ArgumentParser
import Foundation
import OCI

/// `slipway rmi IMAGE...`: removes names and, once an image has none left, the image and the
/// blobs nothing else needs — like `docker rmi`.
struct RmiCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rmi",
        abstract: "Remove one or more images.")

    @OptionGroup var store: StoreOptions

    @Flag(name: .shortAndLong, help: "Remove the image even if several names refer to it.")
    var force = false

    @Argument(help: "Image names, IDs or digests.")
    var images: [String]

    func run() throws {
        try reportingErrors {
            guard !images.isEmpty else { throw ValidationError("rmi needs at least one image") }
            let s = try store.open()
            var failures = 0
            for name in images {
                do {
                    try remove(name, from: s)
                } catch {
                    printError("\(error)")
                    failures += 1
                }
            }
            let report = try s.collectGarbage()
            if !report.removedBlobs.isEmpty {
                print("Freed \(StoreFormatting.humanSize(report.freedBytes)) in \(report.removedBlobs.count) blobs")
            }
            if failures > 0 { throw ExitCode.failure }
        }
    }

    private func remove(_ name: String, from s: ImageStore) throws {
        let image = try s.resolve(name)
        // Named by a tag: remove that tag, and the image only when no other tag remains.
        if let ref = try? ImageReference(parsing: name), ref.digest == nil, image.tags.contains(ref) {
            try s.untag(ref)
            print("Untagged: \(ref.familiar)")
            if image.tags.count > 1 { return }
        } else {
            let repos = Set(image.tags.map(\.repository))
            if repos.count > 1 && !force {
                throw StoreError.conflict("unable to delete \(image.id.short) (must be forced) - image is referenced in multiple repositories")
            }
            for t in image.tags {
                try s.untag(t)
                print("Untagged: \(t.familiar)")
            }
        }
        try s.removeImage(image.manifestDigest)
        print("Deleted: \(image.id)")
    }
}
