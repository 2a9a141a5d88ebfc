#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing
import System

@Suite("ChildProcess")
struct ChildProcessTests {
    @Test func runCapturesBothStreamsByteForByteAndTheExitCode() throws {
        let result = try ChildProcess.run(["/bin/sh", "-c", "printf 'out\\r\\nmore'; printf 'err\\n' >&2; exit 3"])
        #expect(result.code == 3)
        #expect(result.stdout == Array("out\r\nmore".utf8))
        #expect(result.stderrText == "err\n")
    }

    /// Much more output than a pipe holds, on both streams: neither blocks the child.
    @Test func runDrainsLargeOutputOnBothStreams() throws {
        let result = try ChildProcess.run(["/bin/sh", "-c", "head -c 300000 /dev/zero; head -c 200000 /dev/zero >&2"])
        #expect(result.code == 0)
        #expect(result.stdout.count == 300_000)
        #expect(result.stderr.count == 200_000)
    }

    @Test func aKilledChildReportsOneHundredTwentyEightPlusTheSignal() throws {
        #expect(try ChildProcess.run(["/bin/sh", "-c", "kill -9 $$"]).code == 128 + SIGKILL)
        let child = try ChildProcess.spawn(["/bin/sleep", "30"], output: .null)
        kill(child.pid, SIGTERM)
        #expect(child.wait() == 128 + SIGTERM)
    }

    @Test func environmentReplacesOurs() throws {
        let result = try ChildProcess.run(["/usr/bin/env"], environment: ["ONLY": "this"])
        #expect(result.stdoutText == "ONLY=this\n")
        let inherited = try ChildProcess.run(["/usr/bin/env"])
        #expect(inherited.stdoutText.contains("PATH="))
    }

    /// `stdin: .pipe`: what we write reaches the child, closing the write end is its EOF, and a
    /// second child does not inherit the write end (it would hold the first one's EOF back).
    @Test func stdinPipeFeedsTheChildUntilClosed() throws {
        let child = try ChildProcess.spawn(["/bin/sh", "-c", "wc -c"], stdin: .pipe)
        let fd = try #require(child.stdinFD)
        #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
        let other = try ChildProcess.spawn(["/bin/sleep", "5"], output: .null)
        defer { kill(other.pid, SIGKILL); _ = other.wait() }
        let bytes = [UInt8](repeating: 0x61, count: 200_000)
        #expect(bytes.withUnsafeBytes { FileIO.writeFully(fd, $0) } == 0)
        close(fd)
        let (out, _) = child.collectOutput()
        #expect(child.wait() == 0)
        #expect(String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "200000")
    }

    @Test func aMissingProgramIsASystemErrorNamingIt() {
        #expect(throws: SystemError(operation: "spawn", path: "/no/such/tool", errno: ENOENT)) {
            try ChildProcess.spawn(["/no/such/tool"])
        }
    }

    @Test func pumpLinesSplitsLinesPerStream() throws {
        let child = try ChildProcess.spawn(["/bin/sh", "-c", "echo one; echo two >&2; printf three"])
        let lines = Mutex<[OutputLine]>([])
        child.pumpLines { line in lines.withLock { $0.append(line) } }
        #expect(child.wait() == 0)
        let got = lines.withLock { $0 }
        #expect(got.filter { $0.stream == .stdout }.map(\.text) == ["one", "three"])
        #expect(got.filter { $0.stream == .stderr }.map(\.text) == ["two"])
        let captured = try ChildProcess.runCapturing(["/bin/sh", "-c", "echo a; exit 4"])
        #expect(captured.code == 4 && captured.output == "a\n")
        #expect(ChildProcess.runQuietly(["/bin/sh", "-c", "echo noise; exit 2"]) == 2)
        #expect(ChildProcess.which("sh") != nil && ChildProcess.which("no-such-tool-here") == nil)
    }

    /// Signals we catch or ignore are reset to their defaults in the child.
    @Test func theChildGetsDefaultSignalDispositions() throws {
        signal(SIGPIPE, SIG_IGN)
        let result = try ChildProcess.run(["/bin/sh", "-c", "grep SigIgn /proc/self/status"])
        let mask = result.stdoutText.split(separator: "\t").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        let bits = UInt64(mask, radix: 16) ?? .max
        #expect(bits & (1 << UInt64(SIGPIPE - 1)) == 0, "SigIgn: \(mask)")
    }
}
