#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import Build

/// A progress pipe whose reader left (`slipway build . 2>&1 | head`): the first failed write is
/// recorded as EPIPE, nothing more is written, and the work run through
/// `stoppingOnOutputFailure` is cancelled and fails with that error instead of running on.
@Suite("ProgressReporter: closed output")
struct ProgressOutputFailureTests {
    /// A pipe whose reading end is already closed, as its writing FileHandle.
    func readerlessPipe() -> FileHandle {
        // SIGPIPE caught as in the CLI, so the write fails with EPIPE instead of ending the tests.
        CleanupRegistry.shared.installHandlers()
        let pipe = Pipe()
        try? pipe.fileHandleForReading.close()
        return pipe.fileHandleForWriting
    }

    @Test("a write to a reader-less pipe records EPIPE; later events write nothing and do not trap")
    func recordsFirstFailure() async {
        let reporter = ProgressReporter(mode: .plain, stderr: readerlessPipe())
        #expect(await reporter.outputFailure == nil)
        await reporter.emit(.note("one"))
        #expect(await reporter.outputFailure == ProgressOutputError(stream: "stderr", errno: EPIPE))
        for i in 0..<1000 { await reporter.emit(.note("line \(i)")) }
        #expect(await reporter.outputFailure?.description.contains("the program reading the build's output exited") == true)
    }

    @Test("the watched work is cancelled at the failed write and throws the output error", .timeLimit(.minutes(1)))
    func cancelsWork() async throws {
        let reporter = ProgressReporter(mode: .json, stderr: readerlessPipe())
        let error = await #expect(throws: ProgressOutputError.self) {
            try await reporter.stoppingOnOutputFailure {
                await reporter.emit(.note("start"))
                // Runs until cancelled: only the failed write can end it.
                while true { try await Task.sleep(for: .seconds(3600)) }
            }
        }
        #expect(error?.errno == EPIPE)
    }

    @Test("work that ends before any failure returns its value")
    func passesValueThrough() async throws {
        let pipe = Pipe()
        let reporter = ProgressReporter(mode: .plain, stderr: pipe.fileHandleForWriting)
        let value = try await reporter.stoppingOnOutputFailure { 42 }
        #expect(value == 42)
        #expect(await reporter.outputFailure == nil)
    }
}
