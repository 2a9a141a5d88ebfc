import Foundation

/// npm lockfiles: which installed packages are devDependencies. A final stage built with
/// `npm ci --omit=dev` (or after `npm prune --production`) does not carry them.
public enum NpmLockfile {
    /// Absolute `node_modules/...` directories of dev-only packages, from a lockfile at
    /// `lockfilePath` (absolute). Understands lockfileVersion 2/3 (`packages` with `"dev": true`)
    /// and 1 (nested `dependencies`). Malformed JSON gives an empty list.
    public static func devPackageDirectories(lockfile data: [UInt8], lockfilePath: String) -> [String] {
        guard let root = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any] else { return [] }
        let base = (lockfilePath as NSString).deletingLastPathComponent
        var result: [String] = []
        if let packages = root["packages"] as? [String: Any] {
            for (key, value) in packages where key.contains("node_modules/") {
                guard let info = value as? [String: Any], info["dev"] as? Bool == true else { continue }
                result.append(base + "/" + key)
            }
            return result.sorted()
        }
        func walk(_ dependencies: [String: Any], _ prefix: String) {
            for (name, value) in dependencies {
                guard let info = value as? [String: Any] else { continue }
                let dir = prefix + "/node_modules/" + name
                if info["dev"] as? Bool == true { result.append(dir) }
                if let nested = info["dependencies"] as? [String: Any] { walk(nested, dir) }
            }
        }
        if let dependencies = root["dependencies"] as? [String: Any] { walk(dependencies, base) }
        return result.sorted()
    }

    /// Dev package directories of every lockfile the image's final filesystem still has.
    static func devDirectories(_ image: ImageInput, finalPaths: Set<String>) -> [String] {
        var latest: [String: [UInt8]] = [:]
        for layer in image.layers {
            for (path, data) in layer.captured where path.hasSuffix("package-lock.json") { latest[path] = data }
        }
        var result: [String] = []
        for (path, data) in latest where finalPaths.contains("/" + path) {
            result += devPackageDirectories(lockfile: data, lockfilePath: "/" + path)
        }
        return result
    }
}
