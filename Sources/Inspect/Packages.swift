import Foundation

/// OS packages installed in an image, read from the dpkg status file or the apk database.
public struct PackageSet: Sendable, Codable, Hashable {
    /// "dpkg", "apk", or "" when the image has neither database.
    public var manager: String
    /// Package name → version.
    public var versions: [String: String]

    public init(manager: String = "", versions: [String: String] = [:]) {
        self.manager = manager
        self.versions = versions
    }

    /// The database content the top-most layer wrote, if the file still exists in the image.
    public static func of(_ image: ImageInput, finalPaths: Set<String>) -> PackageSet {
        var dpkg: [UInt8]?
        var apk: [UInt8]?
        for layer in image.layers {
            if let data = layer.captured["var/lib/dpkg/status"] { dpkg = data }
            if let data = layer.captured["lib/apk/db/installed"] { apk = data }
        }
        if let dpkg, finalPaths.contains("/var/lib/dpkg/status") {
            return PackageSet(manager: "dpkg", versions: parseDpkgStatus(String(decoding: dpkg, as: UTF8.self)))
        }
        if let apk, finalPaths.contains("/lib/apk/db/installed") {
            return PackageSet(manager: "apk", versions: parseApkInstalled(String(decoding: apk, as: UTF8.self)))
        }
        return PackageSet()
    }

    /// `Package:`/`Version:`/`Status:` paragraphs; only "install ok installed" ones count.
    public static func parseDpkgStatus(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for paragraph in text.components(separatedBy: "\n\n") {
            var fields: [String: String] = [:]
            for line in paragraph.split(separator: "\n") where !line.hasPrefix(" ") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            guard let name = fields["Package"] else { continue }
            if let status = fields["Status"], !status.hasSuffix(" installed") { continue }
            result[name] = fields["Version"] ?? ""
        }
        return result
    }

    /// `P:` (name) / `V:` (version) records separated by blank lines.
    public static func parseApkInstalled(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for record in text.components(separatedBy: "\n\n") {
            var name: String?
            var version = ""
            for line in record.split(separator: "\n") {
                if line.hasPrefix("P:") { name = String(line.dropFirst(2)) }
                if line.hasPrefix("V:") { version = String(line.dropFirst(2)) }
            }
            if let name { result[name] = version }
        }
        return result
    }
}
