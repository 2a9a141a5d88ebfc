import System
#if canImport(Glibc)
import Glibc
#endif
import CLinux

/// An exclusive `flock(2)` on a file, held from `acquire` until `release`. Each acquisition
/// opens its own descriptor, so two threads of one process exclude each other as two processes do,
/// and the kernel drops the lock when a process dies, so a killed writer never wedges the store.
final class StoreFileLock {
    private let path: String
    private var fd: Int32 = -1

    init(path: String) { self.path = path }

    func acquire() throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        try StoreError.wrapping { try FileIO.check(fd, "open lock", path) }
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let e = errno
            close(fd)
            throw StoreError.io(path: path, operation: "flock", errno: e)
        }
        self.fd = fd
    }

    func release() {
        if fd >= 0 {
            flock(fd, LOCK_UN)
            close(fd)
            fd = -1
        }
    }

    deinit { release() }

    static func withLock<T>(_ path: String, _ body: () throws -> T) throws -> T {
        let lock = StoreFileLock(path: path)
        try lock.acquire()
        defer { lock.release() }
        return try body()
    }
}
