import Foundation

/// A resolved container user: what Docker's `USER`/`--user` value means inside one image.
public struct ResolvedUser: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    /// Supplementary groups: the groups in /etc/group that list the user by name, only when the
    /// spec names no group (Docker's rule).
    public var additionalGids: [UInt32]
    /// Home directory from /etc/passwd ("/" when the user is not listed), for HOME.
    public var home: String

    public init(uid: UInt32, gid: UInt32, additionalGids: [UInt32] = [], home: String) {
        self.uid = uid
        self.gid = gid
        self.additionalGids = additionalGids
        self.home = home
    }

    /// Resolves `spec` ("", "name", "uid", "name:group", "uid:gid", "name:gid", "uid:group") with
    /// the passwd and group files' contents, like github.com/moby/sys/user's GetExecUser:
    /// a numeric uid need not be listed; a name must be; a numeric gid need not be listed.
    public static func resolve(_ spec: String, passwd: String?, group: String?) throws -> ResolvedUser {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let userArg = parts.first ?? ""
        let groupArg = parts.count > 1 ? parts[1] : ""
        let users = parsePasswd(passwd ?? "")
        let groups = parseGroup(group ?? "")

        var result = ResolvedUser(uid: 0, gid: 0, home: "/")
        var userName: String?
        if userArg.isEmpty {
            if let root = users.first(where: { $0.uid == 0 }) {
                result = ResolvedUser(uid: 0, gid: root.gid, home: root.home)
                userName = root.name
            } else {
                result.home = "/root"
            }
        } else if let entry = users.first(where: { $0.name == userArg }) {
            result = ResolvedUser(uid: entry.uid, gid: entry.gid, home: entry.home)
            userName = entry.name
        } else if let uid = UInt32(userArg) {
            if let entry = users.first(where: { $0.uid == uid }) {
                result = ResolvedUser(uid: uid, gid: entry.gid, home: entry.home)
                userName = entry.name
            } else {
                result = ResolvedUser(uid: uid, gid: 0, home: "/")
            }
        } else {
            throw RuntimeError.unknownUser(spec: userArg, reason: passwd == nil
                ? "the image has no /etc/passwd" : "no matching entries in passwd file")
        }

        if !groupArg.isEmpty {
            if let entry = groups.first(where: { $0.name == groupArg }) {
                result.gid = entry.gid
            } else if let gid = UInt32(groupArg) {
                result.gid = gid
            } else {
                throw RuntimeError.unknownUser(spec: spec, reason: group == nil
                    ? "the image has no /etc/group" : "no matching entries in group file for group \(groupArg)")
            }
        } else if let name = userName {
            var seen = Set<UInt32>()
            result.additionalGids = groups.filter { $0.members.contains(name) }.map(\.gid).filter { seen.insert($0).inserted }
        }
        return result
    }

    struct PasswdEntry { var name: String; var uid: UInt32; var gid: UInt32; var home: String }
    struct GroupEntry { var name: String; var gid: UInt32; var members: [String] }

    static func parsePasswd(_ text: String) -> [PasswdEntry] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 4, !f[0].hasPrefix("#"), let uid = UInt32(f[2]), let gid = UInt32(f[3]) else { return nil }
            return PasswdEntry(name: f[0], uid: uid, gid: gid, home: f.count > 5 && !f[5].isEmpty ? f[5] : "/")
        }
    }

    static func parseGroup(_ text: String) -> [GroupEntry] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 3, !f[0].hasPrefix("#"), let gid = UInt32(f[2]) else { return nil }
            let members = f.count > 3 ? f[3].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } : []
            return GroupEntry(name: f[0], gid: gid, members: members)
        }
    }
}
