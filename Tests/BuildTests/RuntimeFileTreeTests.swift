#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import Build
import System

@Suite("RuntimeFileTree")
struct RuntimeFileTreeTests {
    /// A RUN step can leave a tree far deeper than PATH_MAX allows to name; removing it must not
    /// recurse (a 256 KiB thread stack is enough) and must never follow a symlink out.
    @Test func removesAVeryDeepTreeWithoutRecursingOrFollowingLinks() async throws {
        let base = try FileSystem.makeTemporaryDirectory(in: "/var/tmp/slipway-tests", prefix: "deep-")
        defer { try? FileSystem.removeTree(base) }
        let outside = base + "/outside"
        let tree = base + "/tree"
        try FileSystem.makeDirectory(outside)
        try FileIO.writeFile(Array(("keep").utf8), to: outside + "/keep")
        try FileSystem.makeDirectory(tree)
        // 5000 levels, each with a file and a symlink to the outside directory.
        var fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        #expect(fd >= 0)
        for _ in 0..<5000 {
            let f = openat(fd, "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
            close(f)
            symlinkat(outside, fd, "out")
            #expect(mkdirat(fd, "d", 0o755) == 0)
            let sub = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            close(fd)
            fd = sub
        }
        close(fd)

        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                try? FileSystem.removeTree(tree)
                done.resume()
            }
            thread.stackSize = 256 << 10
            thread.start()
        }
        #expect(access(tree, F_OK) != 0)
        #expect(FileIO.readText(outside + "/keep") == "keep")
    }
}
