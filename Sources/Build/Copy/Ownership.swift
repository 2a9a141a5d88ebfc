import Foundation

/// A numeric owner for copied files, from `--chown=USER[:GROUP]`.
public struct Ownership: Sendable, Hashable {
    public let uid: UInt32
    public let gid: UInt32

    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }

    public enum LookupError: Error, Equatable, Sendable {
        case invalid(String)
        case unknownUser(String)
        case unknownGroup(String)
    }

    /// Resolves `--chown` as BuildKit does: numeric ids are taken as they are (a lone user id
    /// also becomes the group id); `root` is 0; other names are looked up in the DESTINATION
    /// root filesystem's /etc/passwd (a lone user name takes its primary group) and
    /// /etc/group. Unlike BuildKit, an unknown name is an error rather than a silent 0.
    public static func resolve(_ spec: String, rootfs: String) throws(LookupError) -> Ownership {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let userPart = parts.first, !userPart.isEmpty, parts.count <= 2,
              parts.count == 1 || !parts[1].isEmpty else {
            throw .invalid(spec)
        }
        var uid: UInt32
        var gid: UInt32
        if let n = numericID(userPart) {
            uid = n; gid = n
        } else {
            guard let entry = lookup(file: "/etc/passwd", rootfs: rootfs, name: userPart, idField: 2, gidField: 3) else {
                throw .unknownUser(userPart)
            }
            uid = entry.id; gid = entry.gid ?? entry.id
        }
        if parts.count == 2 {
            let groupPart = parts[1]
            if let n = numericID(groupPart) {
                gid = n
            } else {
                guard let entry = lookup(file: "/etc/group", rootfs: rootfs, name: groupPart, idField: 2, gidField: nil) else {
                    throw .unknownGroup(groupPart)
                }
                gid = entry.id
            }
        }
        return Ownership(uid: uid, gid: gid)
    }

    static func numericID(_ s: String) -> UInt32? {
        if s == "root" { return 0 }
        guard s.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt32(s)
    }

    /// Reads a colon-separated database inside `rootfs` (the path resolved as if chrooted, so a
    /// symlinked /etc cannot make us read the host's) and finds `name` in field 0.
    static func lookup(file: String, rootfs: String, name: String, idField: Int, gidField: Int?) -> (id: UInt32, gid: UInt32?)? {
        guard let root = try? ScopedPath.canonicalDirectory(rootfs),
              let sp = try? ScopedPath.resolve(root: root, path: file, scope: .chroot, followFinal: true),
              sp.exists, let st = try? FileStat.lstat(sp.hostPath), st.kind == .regular, st.size < 10 << 20,
              let data = FileManager.default.contents(atPath: sp.hostPath) else {
            return nil
        }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count > idField, fields[0] == name, let id = UInt32(fields[idField]) else { continue }
            var gid: UInt32?
            if let g = gidField, fields.count > g { gid = UInt32(fields[g]) }
            return (id, gid)
        }
        return nil
    }
}
