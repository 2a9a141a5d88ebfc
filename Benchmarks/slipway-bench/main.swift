// slipway-bench: drives the OCI layer code for scripts/bench-layers.sh, which times it against
// the shell pipelines and measures peak memory with /usr/bin/time. Not part of the product.
import Foundation
import OCI

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("slipway-bench: \(message)\n".utf8))
    exit(2)
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

let usage = """
    usage: slipway-bench write DIR OUTDIR gzip|zstd|none [level] [nosync] [threads]   write a layer, print digests
           slipway-bench read BLOB                                  iterate entries, print diffID
           slipway-bench apply BLOB DIR                             apply (flatten) onto DIR
    """

let args = CommandLine.arguments
guard args.count >= 2 else { fail(usage) }
do {
    switch args[1] {
    case "write" where args.count >= 5:
        guard let compression = LayerCompression(rawValue: args[4]) else { fail("unknown compression \(args[4])") }
        let level = args.count > 5 ? Int(args[5]) : nil
        let sync = !(args.count > 6 && args[6] == "nosync")
        let threads = args.count > 7 ? Int(args[7]) ?? 0 : 0
        let start = now()
        let blob = try LayerWriter(options: .init(compression: compression, level: level, threads: threads, sync: sync))
            .write(directory: args[2], into: args[3])
        let elapsed = now() - start
        print("digest=\(blob.digest) diffID=\(blob.diffID) compressed=\(blob.compressedSize) uncompressed=\(blob.uncompressedSize) seconds=\(String(format: "%.3f", elapsed)) file=\(blob.file)")
    case "read" where args.count >= 3:
        let start = now()
        let s = try LayerReader.summarize(blob: args[2])
        print("diffID=\(s.diffID) uncompressed=\(s.uncompressedSize) entries=\(s.entries) compression=\(s.compression) seconds=\(String(format: "%.3f", now() - start))")
    case "apply" where args.count >= 4:
        let start = now()
        let r = try LayerApplier().apply(blob: args[2], to: args[3])
        print("diffID=\(r.diffID) entries=\(r.entries) seconds=\(String(format: "%.3f", now() - start))")
    default:
        fail(usage)
    }
} catch {
    fail("\(error)")
}
