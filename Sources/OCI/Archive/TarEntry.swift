import Foundation

/// One tar entry's metadata, independent of the header format that carried it.
public struct TarEntry: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case regular
        case hardlink
        case symlink
        case characterDevice
        case blockDevice
        case directory
        case fifo
        /// A type flag this module does not extract (e.g. GNU sparse or volume headers).
        case other(UInt8)
    }

    /// The path as stored, without a leading "./" and without a trailing "/" on directories.
    public var path: String
    public var kind: Kind
    /// Permission bits including setuid, setgid and sticky (07777).
    public var mode: UInt32
    public var uid: Int
    public var gid: Int
    /// Bytes of file data that follow the header (regular files only).
    public var size: Int64
    /// Modification time, seconds since the epoch.
    public var mtime: Int64
    /// Sub-second part of the modification time (only PAX headers carry it).
    public var mtimeNanoseconds: Int32
    /// Symlink target, or the path of the hardlink's target entry.
    public var linkName: String
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    /// Extended attributes (PAX `SCHILY.xattr.*`), name → raw value.
    public var xattrs: [String: [UInt8]]

    public init(path: String, kind: Kind, mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0,
                size: Int64 = 0, mtime: Int64 = 0, mtimeNanoseconds: Int32 = 0, linkName: String = "",
                deviceMajor: UInt32 = 0, deviceMinor: UInt32 = 0, xattrs: [String: [UInt8]] = [:]) {
        self.path = path
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
        self.mtime = mtime
        self.mtimeNanoseconds = mtimeNanoseconds
        self.linkName = linkName
        self.deviceMajor = deviceMajor
        self.deviceMinor = deviceMinor
        self.xattrs = xattrs
    }

    /// The last path component.
    public var name: String {
        if let slash = path.lastIndex(of: "/") { return String(path[path.index(after: slash)...]) }
        return path
    }

    /// True for OCI whiteouts: `.wh.NAME` (deletes NAME) and `.wh..wh..opq` (opaque directory).
    public var isWhiteout: Bool { name.hasPrefix(Whiteout.prefix) }

    /// True for the opaque-directory marker `.wh..wh..opq`.
    public var isOpaqueWhiteout: Bool { name == Whiteout.opaqueMarker }

    /// For `.wh.NAME`, the path the whiteout deletes; nil for other entries and for the opaque
    /// marker and other `.wh..wh.` metadata.
    public var whiteoutTarget: String? {
        let n = name
        guard n.hasPrefix(Whiteout.prefix), !n.hasPrefix(Whiteout.metaPrefix) else { return nil }
        let target = String(n.dropFirst(Whiteout.prefix.count))
        if let slash = path.lastIndex(of: "/") { return String(path[...slash]) + target }
        return target
    }
}

/// OCI whiteout file names (image-spec layer.md).
public enum Whiteout {
    public static let prefix = ".wh."
    public static let metaPrefix = ".wh..wh."
    public static let opaqueMarker = ".wh..wh..opq"
    /// xattrs overlayfs uses to mark an opaque directory (root mounts, then `userxattr` mounts).
    public static let overlayOpaqueXattrs = ["trusted.overlay.opaque", "user.overlay.opaque"]
}
