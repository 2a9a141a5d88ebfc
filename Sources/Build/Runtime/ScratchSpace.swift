import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Whether the filesystem RUN steps write to ran low. A step that fills the disk fails with its
/// own message ("No space left on device" from some tool, or just an exit code); the build adds
/// where it was writing and how much is left, so the user knows what to free — or to point
/// `$SLIPWAY_SCRATCH` at a larger filesystem.
public enum ScratchSpace {
    /// Under this many free bytes, or under 1% of the filesystem, the scratch space counts as full.
    static let lowWater: Int64 = 64 << 20

    /// A sentence for a failed RUN when the filesystem holding `directory` is nearly full; nil
    /// when there is room (the failure has another cause) or it cannot be measured.
    public static func lowSpaceNote(_ directory: String) -> String? {
        var fs = statvfs()
        guard statvfs(directory, &fs) == 0 else { return nil }
        let free = Int64(fs.f_bavail) * Int64(fs.f_frsize)
        let total = Int64(fs.f_blocks) * Int64(fs.f_frsize)
        guard free < lowWater || free * 100 < total else { return nil }
        return "the scratch filesystem holding \(directory), where RUN steps write, has only \(free) bytes free: "
            + "the step may have run out of space; free space there, or set $SLIPWAY_SCRATCH to a directory on a larger filesystem"
    }
}
