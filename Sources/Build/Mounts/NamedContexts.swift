import Foundation
import OCI

/// `--build-context NAME=VALUE`: a name that `FROM NAME`, `COPY --from=NAME` and
/// `RUN --mount=from=NAME` use instead of an image of that name.
public enum NamedContext: Sendable, Equatable {
    /// A local directory (COPY --from and bind mounts read it like the build context).
    case directory(String)
    /// `docker-image://REF`: an image (from the store).
    case image(String)

    /// Parses `name=DIR`, `name=docker-image://REF` or `name=oci-layout://PATH[:TAG|@DIGEST]`.
    /// An OCI layout is loaded into `store` and becomes the image it holds.
    public static func parse(_ flags: [String], store: ImageStore?) throws -> [String: NamedContext] {
        var out: [String: NamedContext] = [:]
        for flag in flags {
            guard let eq = flag.firstIndex(of: "="), eq != flag.startIndex else {
                throw MountUseError("invalid --build-context \"\(flag)\": use NAME=DIR, NAME=docker-image://REF or NAME=oci-layout://PATH")
            }
            let name = flag[..<eq].lowercased()
            let value = String(flag[flag.index(after: eq)...])
            if value.hasPrefix("docker-image://") {
                let ref = String(value.dropFirst("docker-image://".count))
                guard !ref.isEmpty else { throw MountUseError("--build-context \(name): empty image reference") }
                out[name] = .image(ref)
            } else if value.hasPrefix("oci-layout://") {
                guard let store else { throw MountUseError("--build-context \(name): oci-layout needs a store") }
                out[name] = .image(try loadLayout(String(value.dropFirst("oci-layout://".count)), name: name, store: store))
            } else if value.contains("://") || value.hasPrefix("git@") {
                throw MountUseError("--build-context \(name)=\(value): only directories, docker-image:// and oci-layout:// are supported")
            } else {
                var isDir: ObjCBool = false
                let path = URL(fileURLWithPath: value).standardizedFileURL.path
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
                    throw MountUseError("--build-context \(name): \(value) is not a directory")
                }
                out[name] = .directory(path)
            }
        }
        return out
    }

    /// Loads an OCI image layout directory into the store; returns the image's ID.
    static func loadLayout(_ spec: String, name: String, store: ImageStore) throws -> String {
        var path = spec
        var selector: String?
        if let at = spec.lastIndex(of: "@") {
            path = String(spec[..<at])
            selector = String(spec[spec.index(after: at)...])
        } else if let colon = spec.lastIndex(of: ":"), !spec[colon...].contains("/") {
            path = String(spec[..<colon])
            selector = String(spec[spec.index(after: colon)...])
        }
        guard FileManager.default.fileExists(atPath: path + "/index.json") else {
            throw MountUseError("--build-context \(name): \(path) is not an OCI image layout (no index.json)")
        }
        // The store loads layout archives: tar the directory (uncompressed) and load that.
        let writer = LayerWriter(options: .init(compression: .none, source: .rootfs))
        let tar = try writer.write(directory: path, into: store.tmpDirectory)
        defer { unlink(tar.file) }
        let loaded: [LoadedImage]
        do {
            loaded = try store.load(archive: tar.file)
        } catch {
            throw MountUseError("--build-context \(name): cannot load \(path): \(error)")
        }
        let pick: LoadedImage?
        if let selector {
            pick = loaded.first { img in
                img.image.manifestDigest.description == selector
                    || img.names.contains { $0.description.hasSuffix(":" + selector) || $0.description == selector }
            }
        } else {
            pick = loaded.first
        }
        guard let pick else {
            throw MountUseError("--build-context \(name): \(path) has no image \(selector ?? "")")
        }
        return pick.image.configDigest.description
    }
}

extension BuildExtensions {
    /// The image reference a FROM / --from of `ref` really means (a named docker-image or
    /// oci-layout context), or `ref` itself.
    func imageReference(_ ref: String) -> String {
        if case .image(let r)? = namedContexts[ref.lowercased()] { return r }
        return ref
    }

    /// The directory of a named local context called `ref`, if any.
    func contextDirectory(_ ref: String) -> String? {
        if case .directory(let d)? = namedContexts[ref.lowercased()] { return d }
        return nil
    }
}
