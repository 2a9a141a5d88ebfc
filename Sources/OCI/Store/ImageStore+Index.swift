import GRDB

extension ImageStore {
    /// The image index's transactions go through the shared `StoreIndex`.
    func locked<T>(_ body: (Database) throws -> T) throws -> T { try index.locked(body) }

    @discardableResult
    func locked<T>(_ body: (Database) throws -> T, afterCommit: (T) throws -> Void) throws -> T {
        try index.locked(body, afterCommit: afterCommit)
    }

    func reading<T>(_ body: (Database) throws -> T) throws -> T { try index.reading(body) }
}
