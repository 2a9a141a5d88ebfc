#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import System

@Suite("OwnerProcess")
struct OwnerProcessTests {
    /// A zombie (exited, not yet reaped) owns nothing any more; neither does a reaped pid.
    @Test func aLiveProcessRunsAZombieAndAReapedOneDoNot() throws {
        #expect(OwnerProcess.isRunning(getpid()))
        #expect(!OwnerProcess.isRunning(0) && !OwnerProcess.isRunning(-1))
        let child = try ChildProcess.spawn(["/bin/true"], output: .null)
        var state = ""
        for _ in 0..<500 {
            state = (try? String(contentsOfFile: "/proc/\(child.pid)/stat", encoding: .utf8)) ?? ""
            if state.contains(") Z") { break }
            usleep(10_000)
        }
        #expect(state.contains(") Z"), "not a zombie: \(state)")
        #expect(!OwnerProcess.isRunning(child.pid))
        #expect(child.wait() == 0)
        #expect(!OwnerProcess.isRunning(child.pid))
    }
}
