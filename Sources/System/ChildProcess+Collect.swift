#if canImport(Glibc)
import Glibc
#endif

/// What a finished child wrote and how it ended.
public struct ChildOutput: Sendable, Equatable {
    /// The exit code (128+signal when killed, as shells report it).
    public var code: Int32
    public var stdout: [UInt8]
    public var stderr: [UInt8]

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

extension ChildProcess {
    /// Runs `argv` to completion with both streams captured byte for byte (a helper whose
    /// stdout is data, like `git rev-parse` or a decompressor's first block). Both pipes are
    /// drained together with poll, so a chatty child can fill neither and block. Blocks the
    /// calling thread; from async code call it through `runOffPool`. `newProcessGroup` as for
    /// `spawn`: false lets a terminal's Ctrl-C reach the child along with us.
    public static func run(_ argv: [String], environment: [String: String]? = nil,
                           newProcessGroup: Bool = true) throws(SystemError) -> ChildOutput {
        let child = try spawn(argv, output: .pipe, newProcessGroup: newProcessGroup, environment: environment)
        let (out, err) = child.collectOutput()
        return ChildOutput(code: child.wait(), stdout: out, stderr: err)
    }

    /// Reads stdout and stderr until both close and returns what each carried; closes both.
    public func collectOutput() -> (stdout: [UInt8], stderr: [UInt8]) {
        var fds: [(fd: Int32, data: [UInt8], isStdout: Bool)] = []
        if let fd = stdoutFD { fds.append((fd, [], true)) }
        if let fd = stderrFD { fds.append((fd, [], false)) }
        var result: (stdout: [UInt8], stderr: [UInt8]) = ([], [])
        var buffer = [UInt8](repeating: 0, count: 65536)
        func finish(_ i: Int) {
            close(fds[i].fd)
            if fds[i].isStdout { result.stdout = fds[i].data } else { result.stderr = fds[i].data }
            fds.remove(at: i)
        }
        while !fds.isEmpty {
            var pollfds = fds.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            if poll(&pollfds, nfds_t(pollfds.count), -1) < 0 {
                if errno == EINTR { continue }
                for i in fds.indices.reversed() { finish(i) }
                break
            }
            for i in pollfds.indices.reversed() where pollfds[i].revents != 0 {
                let got = read(fds[i].fd, &buffer, buffer.count)
                if got < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if got <= 0 { finish(i); continue }
                fds[i].data.append(contentsOf: buffer[0..<got])
            }
        }
        return result
    }
}
