import Foundation

/// OS packages only a build needs: build tools named as such (compilers, make, dpkg-dev, npm,
/// node-gyp, `-dev` packages) and every automatically installed package that only they depend
/// on — what `apt-get purge` of the build tools followed by `apt-get autoremove` would take
/// away, which is what a final stage on a runtime base never installs. Path rules cannot see these (npm's
/// hundreds of modules under /usr/share/nodejs, the python3 node-gyp pulls in, perl for dpkg-dev).
public enum BuildPackages {
    /// Packages that are build tools by name.
    static let toolNames: Set<String> = [
        "build-essential", "make", "make-guile", "dpkg-dev", "binutils", "patch", "autoconf", "automake", "libtool",
        "libtool-bin", "pkg-config", "pkgconf", "cmake", "ninja-build", "bison", "flex", "m4", "gcc", "g++", "cpp",
        "clang", "npm", "node-gyp", "gyp", "yarnpkg", "fakeroot", "debhelper",
    ]
    /// Name prefixes of versioned toolchain packages (`gcc-12`, `binutils-x86-64-linux-gnu`).
    static let toolPrefixes = ["gcc-", "g++-", "cpp-", "binutils-", "clang-", "llvm-", "lld-"]

    struct Package {
        var name: String
        var essential = false
        var priority = ""
        var depends: [[String]] = []
        var provides: [String] = []
    }

    public static func isTool(_ name: String) -> Bool {
        toolNames.contains(name) || name.hasSuffix("-dev") || name.hasSuffix("-dev-bin")
            || toolPrefixes.contains { name.hasPrefix($0) }
    }

    /// Names of the installed packages that are build-only, from a dpkg status file and apt's
    /// `extended_states` (which packages were installed only as dependencies). Without
    /// `extended_states` every package counts as chosen by the user, so only the tools are.
    public static func buildOnly(dpkgStatus text: String, extendedStates: String = "") -> Set<String> {
        let automatic = autoInstalled(extendedStates)
        var packages: [String: Package] = [:]
        for paragraph in text.components(separatedBy: "\n\n") {
            var fields: [String: String] = [:]
            var last: String?
            for line in paragraph.split(separator: "\n") {
                if line.hasPrefix(" ") || line.hasPrefix("\t") {
                    if let last { fields[last, default: ""] += " " + line.trimmingCharacters(in: .whitespaces) }
                    continue
                }
                guard let colon = line.firstIndex(of: ":") else { continue }
                let key = String(line[..<colon])
                fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                last = key
            }
            guard let name = fields["Package"], fields["Status"]?.hasSuffix(" installed") ?? true else { continue }
            var p = Package(name: name)
            p.essential = fields["Essential"] == "yes"
            p.priority = fields["Priority"] ?? ""
            p.depends = parseRelations((fields["Depends"] ?? "") + "," + (fields["Pre-Depends"] ?? ""))
            p.provides = parseRelations(fields["Provides"] ?? "").flatMap { $0 }
            packages[name] = p
        }
        // Who depends on each installed package (a virtual name counts for all its providers).
        var providers: [String: [String]] = [:]
        for p in packages.values {
            providers[p.name, default: []].append(p.name)
            for v in p.provides where v != p.name { providers[v, default: []].append(p.name) }
        }
        var dependents: [String: Set<String>] = [:]
        for p in packages.values {
            for group in p.depends {
                for alternative in group {
                    for target in providers[alternative] ?? [] where target != p.name {
                        dependents[target, default: []].insert(p.name)
                    }
                }
            }
        }
        var result = Set(packages.keys.filter(isTool))
        var changed = true
        while changed {
            changed = false
            for p in packages.values where !result.contains(p.name) {
                guard automatic.contains(p.name), !p.essential, p.priority != "required", p.priority != "important",
                      let users = dependents[p.name], !users.isEmpty, users.isSubset(of: result) else { continue }
                result.insert(p.name)
                changed = true
            }
        }
        return result
    }

    /// Packages apt marked `Auto-Installed: 1`.
    static func autoInstalled(_ text: String) -> Set<String> {
        var result: Set<String> = []
        for paragraph in text.components(separatedBy: "\n\n") {
            var name: String?
            var auto = false
            for line in paragraph.split(separator: "\n") {
                if line.hasPrefix("Package:") { name = line.dropFirst(8).trimmingCharacters(in: .whitespaces) }
                if line.hasPrefix("Auto-Installed:") { auto = line.dropFirst(15).trimmingCharacters(in: .whitespaces) == "1" }
            }
            if let name, auto { result.insert(name) }
        }
        return result
    }

    /// `a (>= 1), b | c:any` → [[a], [b, c]].
    static func parseRelations(_ text: String) -> [[String]] {
        text.split(separator: ",").compactMap { group in
            let names = group.split(separator: "|").compactMap { alternative -> String? in
                let word = alternative.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? ""
                let name = word.split(separator: ":").first.map(String.init) ?? ""
                return name.isEmpty ? nil : name
            }
            return names.isEmpty ? nil : names
        }
    }

    /// Absolute paths owned only by build-only packages, from the dpkg status and the
    /// `var/lib/dpkg/info/*.list` files the image still has. Paths under /bin, /sbin and /lib
    /// are also given under /usr (merged-/usr images list them unmerged).
    static func paths(_ image: ImageInput, finalPaths: Set<String>) -> Set<String> {
        var latest: [String: [UInt8]] = [:]
        for layer in image.layers {
            for (path, data) in layer.captured where path == "var/lib/dpkg/status" || path == extendedStatesPath || isListFile(path) {
                latest[path] = data
            }
        }
        guard let status = latest["var/lib/dpkg/status"], finalPaths.contains("/var/lib/dpkg/status") else { return [] }
        let states = latest[extendedStatesPath].flatMap { finalPaths.contains("/" + extendedStatesPath) ? $0 : nil } ?? []
        let buildOnly = Self.buildOnly(dpkgStatus: String(decoding: status, as: UTF8.self),
                                       extendedStates: String(decoding: states, as: UTF8.self))
        guard !buildOnly.isEmpty else { return [] }
        var owned: Set<String> = []
        var runtime: Set<String> = []
        for (path, data) in latest where isListFile(path) && finalPaths.contains("/" + path) {
            let file = String(path.dropFirst("var/lib/dpkg/info/".count).dropLast(".list".count))
            let package = file.split(separator: ":").first.map(String.init) ?? file
            let isBuild = buildOnly.contains(package)
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                var names = [String(line)]
                if ["/bin/", "/sbin/", "/lib/", "/lib64/", "/lib32/"].contains(where: { line.hasPrefix($0) }) {
                    names.append("/usr" + line)
                }
                for name in names {
                    if isBuild { owned.insert(name) } else { runtime.insert(name) }
                }
            }
        }
        return owned.subtracting(runtime)
    }

    static let extendedStatesPath = "var/lib/apt/extended_states"

    static func isListFile(_ path: String) -> Bool {
        path.hasPrefix("var/lib/dpkg/info/") && path.hasSuffix(".list") && !path.dropFirst(18).contains("/")
    }
}
