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
    /// An OCI layout is copied into `store` (`ImageCopy` from an `OCILayoutSource`) and
    /// becomes the image it holds.
    /// `platform`: `build --platform` (an oci-layout index gives that platform's image).
    public static func parse(_ flags: [String], store: ImageStore?, platform: Platform? = nil) async throws -> [String: NamedContext] {
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
                out[name] = .image(try await loadLayout(String(value.dropFirst("oci-layout://".count)), name: name, store: store,
                                                        platform: platform))
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

    /// Copies the image an OCI image layout directory holds into the store; returns its ID.
    /// `spec` is `PATH`, `PATH:TAG` or `PATH@DIGEST`; a layout of several platforms gives
    /// `platform`'s image (`build --platform`), else the host's.
    static func loadLayout(_ spec: String, name: String, store: ImageStore, platform: Platform? = nil) async throws -> String {
        var path = spec
        var selector = ImageReference.defaultTag
        if let at = spec.lastIndex(of: "@") {
            path = String(spec[..<at])
            selector = String(spec[spec.index(after: at)...])
        } else if let colon = spec.lastIndex(of: ":"), !spec[colon...].contains("/") {
            path = String(spec[..<colon])
            selector = String(spec[spec.index(after: colon)...])
        }
        do {
            let copy = ImageCopy(from: try OCILayoutSource(directory: path), to: StoreImageDestination(store: store))
            return try await copy.copy(selector, platform: platform).configDigest.description
        } catch {
            throw MountUseError("--build-context \(name): cannot use \(path): \(error)")
        }
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
