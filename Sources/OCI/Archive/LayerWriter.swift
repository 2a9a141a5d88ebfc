import CLinux
import Foundation
import System
#if canImport(Glibc)
import Glibc
#endif

/// Turns a directory into a layer blob in one streaming pass: walk → tar → sha256 (diffID) →
/// compress → sha256 (digest) → temp file. Memory stays flat whatever the layer's size.
///
/// Entry order: each directory's entries sorted by the bytes of their (emitted) names, a
/// directory directly followed by its contents (depth first, the order Go's filepath.Walk and
/// BuildKit use); an opaque marker `.wh..wh..opq` comes right after its directory.
public struct LayerWriter: Sendable {
    /// What the directory is.
    public enum SourceKind: Sendable, Hashable {
        /// A complete tree: every file becomes an entry.
        case rootfs
        /// An overlayfs upper dir: char devices 0:0 become `.wh.NAME`, directories with
        /// `trusted.overlay.opaque=y` (or `user.overlay.opaque=y`) get `.wh..wh..opq`.
        case overlayUpper
    }

    public struct Options: Sendable, Hashable {
        public var compression: LayerCompression
        /// nil: gzip 6, zstd 3.
        public var level: Int?
        /// Compression threads (zstd); 0 picks the number of cores, at most 4.
        public var threads: Int
        public var source: SourceKind
        /// Clamp every mtime to at most this (SOURCE_DATE_EPOCH), for reproducible layers.
        public var sourceDateEpoch: Int64?
        /// Relative paths ("proc", "etc/resolv.conf") left out with everything under them.
        public var excludedPaths: Set<String>
        /// Use Docker's gzip media type instead of OCI's.
        public var dockerMediaType: Bool
        /// fsync the blob before returning it (what a store needs before its rename).
        public var sync: Bool

        public init(compression: LayerCompression = .gzip, level: Int? = nil, threads: Int = 0,
                    source: SourceKind = .rootfs, sourceDateEpoch: Int64? = nil,
                    excludedPaths: Set<String> = [], dockerMediaType: Bool = false, sync: Bool = true) {
            self.compression = compression
            self.level = level
            self.threads = threads
            self.source = source
            self.sourceDateEpoch = sourceDateEpoch
            self.excludedPaths = excludedPaths
            self.dockerMediaType = dockerMediaType
            self.sync = sync
        }

        /// SOURCE_DATE_EPOCH from the environment, if set to an integer.
        public static var sourceDateEpochFromEnvironment: Int64? {
            ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap { Int64($0) }
        }
    }

    public var options: Options

    public init(options: Options = Options()) {
        self.options = options
    }

    var mediaType: String {
        options.dockerMediaType ? options.compression.dockerMediaType : options.compression.ociMediaType
    }

    /// Writes `directory` as a compressed layer into a new temporary file inside
    /// `temporaryDirectory` (same filesystem as the store, so the caller can rename it into
    /// place). The file is fsynced unless `options.sync` is false. On error nothing is left behind.
    public func write(directory: String, into temporaryDirectory: String) throws -> LayerBlob {
        try withTemporaryFile(in: temporaryDirectory) { sink in
            try writeTar(directory: directory, to: sink)
        }
    }

    /// Compresses an existing tar stream (e.g. `slipway import`) into a layer blob, checking
    /// that it parses as tar on the way; the tar bytes are kept as they are, so its diffID is
    /// the sha256 of the input.
    /// `check` sees every entry as it streams past and may refuse it by throwing.
    public func write(tarStream: ByteSource, into temporaryDirectory: String,
                      check: ((TarEntry) throws -> Void)? = nil) throws -> LayerBlob {
        try withTemporaryFile(in: temporaryDirectory) { sink in
            let tee = TeeSource(tarStream, into: sink)
            let reader = TarReader(source: tee)
            while let entry = try reader.next() { try check?(entry) }
            try tee.drain()
            try sink.finish()
        }
    }

    /// Streams the uncompressed tar of `directory` into `sink` and finishes it.
    public func writeTar(directory: String, to sink: ByteSink) throws {
        let rootfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if rootfd < 0 { throw ArchiveError.io(operation: "open", path: directory, errno: errno) }
        defer { close(rootfd) }
        let tar = TarWriter(sink: sink)
        var walker = Walker(options: options, root: directory, tar: tar)
        try walker.walk(dirfd: rootfd, relative: "")
        try tar.finish()
    }

    private func withTemporaryFile(in dir: String, _ body: (ByteSink) throws -> Void) throws -> LayerBlob {
        var template = Array((dir + "/.layer-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd < 0 { throw ArchiveError.io(operation: "create temporary file in", path: dir, errno: errno) }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        fchmod(fd, 0o644)
        do {
            let file = FileSink(descriptor: fd, path: path, ownsDescriptor: true, sync: options.sync)
            let compressedHash = HashingSink(file)
            let compressor = try options.compression.compressor(into: compressedHash, level: options.level, threads: options.threads)
            let tarHash = HashingSink(compressor)
            try body(tarHash)
            try tarHash.finish()
            return LayerBlob(digest: compressedHash.digest, diffID: tarHash.digest,
                             compressedSize: compressedHash.count, uncompressedSize: tarHash.count,
                             mediaType: mediaType, compression: options.compression, file: path)
        } catch {
            unlink(path)
            throw error
        }
    }
}

/// Copies everything read through it into a sink.
final class TeeSource: ByteSource {
    private let upstream: ByteSource
    private let sink: ByteSink
    init(_ upstream: ByteSource, into sink: ByteSink) {
        self.upstream = upstream
        self.sink = sink
    }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try upstream.read(into: buffer)
        if n > 0 { try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) }
        return n
    }
    /// Copies whatever follows the end-of-archive marker too, so the bytes stay identical.
    func drain() throws {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { chunk.deallocate() }
        while try read(into: chunk) > 0 {}
    }
}

/// The recursive walk behind `LayerWriter.writeTar`.
private struct Walker {
    let options: LayerWriter.Options
    let root: String
    let tar: TarWriter
    /// (device, inode) → first path written, for files with several links.
    var links: [FileID: String] = [:]

    struct FileID: Hashable {
        let dev: UInt64
        let ino: UInt64
    }

    init(options: LayerWriter.Options, root: String, tar: TarWriter) {
        self.options = options
        self.root = root
        self.tar = tar
    }

    var upper: Bool { options.source == .overlayUpper }

    func clamp(_ t: Int64) -> Int64 {
        if let epoch = options.sourceDateEpoch, t > epoch { return epoch }
        return t
    }

    func full(_ relative: String) -> String { root + "/" + relative }

    struct Child {
        let name: String
        let emitted: [UInt8]
        let st: stat
        let whiteout: Bool
    }

    /// One directory being walked: its descriptor and its sorted children.
    struct Frame {
        let fd: Int32
        let relative: String
        let children: [Child]
        var next = 0
    }

    /// Trees deeper than this are refused (no real rootfs comes close; it bounds descriptors).
    static let maxDepth = 1024

    /// Depth-first walk with an explicit stack, so a deep tree cannot overflow the thread's stack.
    mutating func walk(dirfd rootfd: Int32, relative: String) throws {
        var stack = [Frame(fd: rootfd, relative: relative, children: try children(of: rootfd, relative: relative))]
        defer { for frame in stack.dropFirst() { close(frame.fd) } }
        while let top = stack.last {
            guard top.next < top.children.count else {
                let done = stack.removeLast()
                if !stack.isEmpty { close(done.fd) }
                continue
            }
            let child = top.children[top.next]
            stack[stack.count - 1].next += 1
            let rel = top.relative.isEmpty ? child.name : top.relative + "/" + child.name
            if let subdir = try emit(dirfd: top.fd, name: child.name, relative: rel, st: child.st, whiteout: child.whiteout) {
                if stack.count >= Self.maxDepth {
                    close(subdir)
                    throw ArchiveError.unsupportedFile(path: full(rel), reason: "directories are nested more than \(Self.maxDepth) levels deep")
                }
                let list: [Child]
                do { list = try children(of: subdir, relative: rel) } catch {
                    close(subdir)
                    throw error
                }
                stack.append(Frame(fd: subdir, relative: rel, children: list))
            }
        }
    }

    /// A directory's entries, stat'ed and sorted by the bytes of the names they are emitted as.
    func children(of dirfd: Int32, relative: String) throws -> [Child] {
        let dirPath = relative.isEmpty ? root : full(relative)
        let names = try LayerFiles.entries(ofDirectory: dirfd, path: dirPath)
        var children: [Child] = []
        children.reserveCapacity(names.count)
        for name in names {
            let rel = relative.isEmpty ? name : relative + "/" + name
            if options.excludedPaths.contains(rel) { continue }
            guard let st = try LayerFiles.lstatAtIfExists(dirfd, name, path: full(rel)) else { continue }
            let whiteout = upper && LayerFiles.isWhiteoutDevice(st)
            let emitted = whiteout ? Whiteout.prefix + name : name
            children.append(Child(name: name, emitted: Array(emitted.utf8), st: st, whiteout: whiteout))
        }
        children.sort { $0.emitted.lexicographicallyPrecedes($1.emitted) }
        return children
    }

    /// Writes one entry; for a directory, returns its opened descriptor for the walk to descend.
    mutating func emit(dirfd: Int32, name: String, relative rel: String, st: stat, whiteout: Bool) throws -> Int32? {
        let path = full(rel)
        let mtime = clamp(Int64(st.st_mtim.tv_sec))
        if whiteout {
            let parent = rel.contains("/") ? String(rel[...rel.lastIndex(of: "/")!]) : ""
            try tar.add(TarEntry(path: parent + Whiteout.prefix + name, kind: .regular, mode: 0, mtime: mtime))
            return nil
        }
        let type = FileSystem.fileType(st)
        var entry = TarEntry(path: rel, kind: .regular, mode: UInt32(st.st_mode) & 0o7777,
                             uid: Int(st.st_uid), gid: Int(st.st_gid), mtime: mtime)
        var opaque = false
        var xattrs = try LayerFiles.xattrs(path)
        for key in xattrs.keys where key.hasPrefix("trusted.overlay.") || key.hasPrefix("user.overlay.") {
            if upper {
                let suffix = key.split(separator: ".").last.map(String.init) ?? ""
                if suffix == "redirect" || suffix == "metacopy" {
                    throw ArchiveError.unsupportedFile(path: path, reason: "overlayfs \(key) is set; mount the overlay with redirect_dir=off,metacopy=off so the upper dir holds whole files")
                }
                if suffix == "opaque" && xattrs[key] == Array("y".utf8) && type == S_IFDIR { opaque = true }
            }
            xattrs[key] = nil
        }
        entry.xattrs = xattrs

        if type != S_IFDIR && st.st_nlink > 1 {
            let id = FileID(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
            if let first = links[id] {
                entry.kind = .hardlink
                entry.linkName = first
                try tar.add(entry)
                return nil
            }
            links[id] = rel
        }

        switch type {
        case S_IFREG:
            entry.kind = .regular
            entry.size = Int64(st.st_size)
            let fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            if fd < 0 { throw ArchiveError.io(operation: "open", path: path, errno: errno) }
            defer { close(fd) }
            try tar.add(entry)
            try tar.writeData(fromDescriptor: fd, path: path)
        case S_IFDIR:
            entry.kind = .directory
            try tar.add(entry)
            if opaque {
                try tar.add(TarEntry(path: rel + "/" + Whiteout.opaqueMarker, kind: .regular, mode: 0, mtime: mtime))
            }
            let fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd < 0 { throw ArchiveError.io(operation: "open", path: path, errno: errno) }
            return fd
        case S_IFLNK:
            entry.kind = .symlink
            entry.linkName = try LayerFiles.readLink(dirfd, name, path: path)
            try tar.add(entry)
        case S_IFCHR, S_IFBLK:
            entry.kind = type == S_IFCHR ? .characterDevice : .blockDevice
            entry.deviceMajor = clinux_major(st.st_rdev)
            entry.deviceMinor = clinux_minor(st.st_rdev)
            try tar.add(entry)
        case S_IFIFO:
            entry.kind = .fifo
            try tar.add(entry)
        default:
            // Sockets cannot be archived; Docker and BuildKit leave them out too.
            return nil
        }
        return nil
    }
}
