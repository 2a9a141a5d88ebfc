import GRDB
import System

/// The store's SQLite index and the flock around its changes: one per store, shared by its
/// three parts (the image index on `ImageStore`, `ContentStore`, `BuildCacheIndex`), so a
/// change that spans them (GC, fsck) is still one transaction under one lock.
final class StoreIndex: Sendable {
    let db: DatabaseQueue
    let lockPath: String

    init(db: DatabaseQueue, lockPath: String) {
        self.db = db
        self.lockPath = lockPath
    }

    /// Runs an index change under the store lock, in one SQLite transaction.
    func locked<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try StoreFileLock.withLock(lockPath) {
                try db.write { try body($0) }
            }
        } catch let e as StoreError {
            throw e
        } catch let e as DatabaseError {
            throw StoreError.database(e.description)
        }
    }

    /// Runs an index change under the store lock, in one SQLite transaction, then — after the
    /// commit, still under the lock — `afterCommit` with the change's result. File removals go
    /// there: a blob or snapshot may only be unlinked once no committed row can name it, so a
    /// process killed at any moment leaves garbage (unreferenced files), never a row whose file
    /// is gone.
    @discardableResult
    func locked<T>(_ body: (Database) throws -> T, afterCommit: (T) throws -> Void) throws -> T {
        do {
            return try StoreFileLock.withLock(lockPath) {
                let value = try db.write { try body($0) }
                try afterCommit(value)
                return value
            }
        } catch let e as StoreError {
            throw e
        } catch let e as DatabaseError {
            throw StoreError.database(e.description)
        }
    }

    /// Reads the index (no file lock: SQLite gives a consistent snapshot).
    func reading<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try db.read { try body($0) }
        } catch let e as StoreError {
            throw e
        } catch let e as DatabaseError {
            throw StoreError.database(e.description)
        }
    }
}
