import Foundation
import OCI
import System

/// ADD's automatic extraction of local tar archives (plain, gzip, bzip2, xz, zstd), decided by
/// content as BuildKit does: a file is an archive when it decompresses to a valid tar header.
enum ArchiveUnpacker {
    enum Compression: String {
        case none, gzip, bzip2, xz, zstd
        var tarFlag: String? {
            switch self {
            case .none: return nil
            case .gzip: return "--gzip"
            case .bzip2: return "--bzip2"
            case .xz: return "--xz"
            case .zstd: return "--zstd"
            }
        }
        var decompressor: String? {
            switch self {
            case .none: return nil
            case .gzip: return "gzip"
            case .bzip2: return "bzip2"
            case .xz: return "xz"
            case .zstd: return "zstd"
            }
        }
    }

    static func compression(ofPrefix b: [UInt8]) -> Compression {
        if b.starts(with: [0x1f, 0x8b]) { return .gzip }
        if b.starts(with: [0x42, 0x5a, 0x68]) { return .bzip2 }
        if b.starts(with: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { return .xz }
        if b.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return .zstd }
        return .none
    }

    /// A 512-byte ustar/gnu header whose checksum field matches.
    static func isTarHeader(_ h: [UInt8]) -> Bool {
        guard h.count >= 512, h[0] != 0 else { return false }
        var sum = 0
        for (i, b) in h[0..<512].enumerated() { sum += (148..<156).contains(i) ? 32 : Int(b) }
        let field = h[148..<156].prefix { $0 != 0 && $0 != 32 }
        guard let stored = Int(String(decoding: field, as: UTF8.self), radix: 8) else { return false }
        return stored == sum
    }

    static func readPrefix(_ path: String, _ n: Int) -> [UInt8] {
        guard let h = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? h.close() }
        return [UInt8]((try? h.read(upToCount: n)) ?? Data())
    }

    static func isArchive(_ path: String) -> Bool {
        let prefix = readPrefix(path, 512)
        let c = compression(ofPrefix: prefix)
        guard let tool = c.decompressor else { return isTarHeader(prefix) }
        // Decompress only the first block.
        let script = "\(tool) -dc < \"$0\" 2>/dev/null | head -c 512"
        guard let result = try? ChildProcess.run(["/bin/sh", "-c", script, path], newProcessGroup: false) else { return false }
        return isTarHeader(result.stdout)
    }

    /// The decompressor a child process runs for `compression` (bzip2 and xz only: plain,
    /// gzip and zstd archives are read in process), by absolute path.
    static func decompressor(_ c: Compression) -> String? {
        guard let tool = c.decompressor, c == .bzip2 || c == .xz else { return nil }
        return ["/usr/bin/" + tool, "/bin/" + tool].first { access($0, X_OK) == 0 }
    }

    /// What an ADD may unpack: the space free on the scratch's filesystem (the store's) less a
    /// reserve, so that an archive expanding beyond the disk — by accident or a crafted
    /// decompression bomb — fails with a message before the disk is full, and the store and
    /// other builds on it keep working.
    static func sizeBudget(scratch: String) -> Int64 {
        var st = statvfs()
        guard statvfs(scratch, &st) == 0 else { return .max }
        let free = Int64(st.f_bavail) * Int64(st.f_frsize)
        return max(0, free - sizeReserve(scratch: scratch))
    }

    /// 5% of the filesystem, at most 1 GiB: room for the layer commit that follows and for the
    /// store's index.
    static func sizeReserve(scratch: String) -> Int64 {
        var st = statvfs()
        guard statvfs(scratch, &st) == 0 else { return 0 }
        return min(Int64(st.f_blocks) * Int64(st.f_frsize) / 20, 1 << 30)
    }

    /// Extracts with the project's own confined `LayerApplier` (the extraction rules of
    /// `load`/`import`: no `..`, no absolute paths, no writes through symlinks, a later entry
    /// replaces an earlier symlink; truncation and bad headers are errors naming the entry)
    /// into a private directory beside the destination's snapshot — on the store's filesystem,
    /// removed with the snapshot, never the host's `$TMPDIR` — then merges that tree into the
    /// destination with the same confined writer COPY uses. gzip and zstd are decoded in
    /// process; bzip2 and xz through `bzip2 -dc` / `xz -dc`. Ownership comes from the archive
    /// unless --chown is given; --chmod does not apply.
    static func unpack(_ archive: String, spec: CopySpec, into root: String, destination: String, owner: Ownership?) throws {
        let name = URL(fileURLWithPath: archive).lastPathComponent
        let base = (root as NSString).deletingLastPathComponent
        let tmp = base + "/add-\(getpid())-" + TempName.randomHex(6)
        guard mkdir(tmp, 0o700) == 0 else {
            throw spec.error(.io(FileSystemError(operation: "mkdir", path: tmp, errno: errno).description))
        }
        defer { try? FileSystem.removeTree(tmp) }
        let c = compression(ofPrefix: readPrefix(archive, 8))
        let budget = sizeBudget(scratch: tmp)
        let applier = LayerApplier(mode: .flatten, sizeLimit: budget)
        do {
            if let tool = decompressor(c) {
                let child: ChildProcess
                do { child = try ChildProcess.spawn([tool, "-dc", archive], output: .pipe) } catch { throw RuntimeError(error) }
                guard let out = child.stdoutFD else { throw spec.error(.io("unpacking \(name): no pipe from \(tool)")) }
                var applyError: Error?
                do {
                    try applier.apply(stream: FileSource(descriptor: out, path: name, ownsDescriptor: false), to: tmp)
                } catch {
                    applyError = error
                }
                close(out)
                let errText = child.stderrFD.map { fd -> String in
                    defer { close(fd) }
                    var buf = [UInt8](repeating: 0, count: 4096)
                    let n = read(fd, &buf, buf.count)
                    return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : ""
                } ?? ""
                let status = child.wait()
                // Stopping early closes the pipe under the decompressor: its failure then is ours.
                if let applyError, case .sizeLimit? = applyError as? ArchiveError { throw applyError }
                if status != 0 {
                    let why = errText.split(separator: "\n").last.map(String.init) ?? "exit status \(status)"
                    throw spec.error(.io("unpacking \(name): \((tool as NSString).lastPathComponent): \(why)"))
                }
                if let applyError { throw applyError }
            } else {
                try applier.apply(blob: archive, to: tmp)
            }
        } catch let e as CopyError {
            throw e
        } catch ArchiveError.sizeLimit(let entry, _) {
            throw spec.error(.io("unpacking \(name): entry '\(DisplayText.escaped(entry))' would take it past \(budget) bytes, "
                + "the space free on the store's filesystem less a reserve of \(sizeReserve(scratch: tmp)) bytes; "
                + "free space there (or use another --root), or ADD a smaller archive"))
        } catch {
            throw spec.error(.io("unpacking \(name): \(error)"))
        }
        let extracted: BuildContext
        do { extracted = try BuildContext(stageRootfs: tmp) } catch { throw spec.error(.io("\(error)")) }
        var inner = spec
        inner.chmod = nil
        inner.excludes = []
        let writer = TreeWriter(root: root, spec: inner, source: extracted, owner: owner, mode: nil, excludes: nil)
        let host = try writer.mkdirAll(destination)
        guard let st = (try? FileStat.lstat(extracted.root)) ?? nil else { return }
        try writer.copyNode(src: extracted.root, st: st, filterRel: "", subRel: "", dst: host, top: true, visible: true)
    }
}
