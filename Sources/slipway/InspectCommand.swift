import ArgumentParser
import Foundation
import OCI
import Template

/// `slipway inspect IMAGE...`: a JSON array with the fields `docker inspect` users look for.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show an image's metadata as JSON.")

    @OptionGroup var store: StoreOptions

    @Argument(help: "Image names, IDs or digests.")
    var images: [String]

    @Option(name: .shortAndLong, help: ArgumentHelp("A Go template applied to each image ('{{.Id}}', '{{json .Config.Env}}', '{{index .Config.Labels \"k\"}}'); default: a JSON array.", valueName: "template"))
    var format: String?

    struct Output: Encodable {
        var Id: String
        var RepoTags: [String]
        var RepoDigests: [String]
        var ManifestDigest: String
        var ManifestMediaType: String
        var Created: String?
        var Author: String?
        var Architecture: String
        var Variant: String?
        var Os: String
        var Config: ContainerConfig?
        var RootFS: RootFSOutput
        var Layers: [LayerOutput]
        var Size: Int64
        var StoredSize: Int64
        var LastUsed: String
    }

    struct RootFSOutput: Encodable {
        var `Type`: String
        var Layers: [String]
    }

    struct LayerOutput: Encodable {
        var Digest: String
        var DiffID: String
        var MediaType: String
        var Size: Int64
        var UncompressedSize: Int64?
    }

    func run() throws {
        try reportingErrors {
            guard !images.isEmpty else { throw ValidationError("inspect needs at least one image") }
            let format = try OutputFormat(format)
            let s = try store.open()
            var out: [Output] = []
            // As docker's: the images found are printed, each one missing is an error line, and
            // the command fails if any was missing.
            var missing: [String] = []
            for name in images {
                let image: StoredImage
                do {
                    image = try s.resolve(name)
                } catch StoreError.imageNotFound {
                    missing.append(name)
                    continue
                }
                let config = try s.config(of: image)
                let layers = try s.layerRecords(of: image)
                let tags = image.tags.map(\.familiar).sorted()
                // Only where it was pushed or pulled, as docker (a local tag has no registry digest).
                let digests = try s.repoDigests(of: image)
                out.append(Output(
                    Id: image.id.description, RepoTags: tags, RepoDigests: digests,
                    ManifestDigest: image.manifestDigest.description, ManifestMediaType: image.manifestMediaType,
                    Created: config.created, Author: config.author, Architecture: config.architecture,
                    Variant: config.variant, Os: config.os, Config: config.config,
                    RootFS: RootFSOutput(Type: config.rootfs.type, Layers: config.rootfs.diffIDs.map(\.description)),
                    Layers: layers.map { LayerOutput(Digest: $0.digest.description, DiffID: $0.diffID.description,
                                                     MediaType: $0.mediaType, Size: $0.size, UncompressedSize: $0.uncompressedSize) },
                    Size: image.size, StoredSize: image.storedSize, LastUsed: Timestamp.format(image.lastUsed)))
            }
            switch format {
            case .table, .json: print(out.isEmpty ? "[]" : try CanonicalJSON.pretty(out))
            case .template(let template, _):
                for o in out { writeStandardOutput(try OutputFormat.render(template, o) + "\n") }
            }
            for name in missing { printError("No such object: \(name)") }
            if !missing.isEmpty { throw ExitCode.failure }
        }
    }
}
