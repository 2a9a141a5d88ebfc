import Foundation
import GRDB

extension BuildCacheIndex {
    /// The inputs last recorded under the first of `scopes` that has any (a read; no lock).
    public func stepInputs(scopes: [Digest]) throws -> String? {
        try index.reading { db in
            for scope in scopes {
                if let text = try String.fetchOne(db, sql: "SELECT inputs FROM step_inputs WHERE scope = ?", arguments: [scope.description]) {
                    return text
                }
            }
            return nil
        }
    }

    /// Records `inputs` (JSON) of the step keyed `key` under each of `scopes`, replacing what was
    /// there: the next miss of the same step is explained against this run. One transaction for
    /// a whole build's steps.
    public func putStepInputs(_ records: [(scopes: [Digest], key: Digest, inputs: String)], at date: Date = Date()) throws {
        if records.isEmpty { return }
        try index.locked { db in
            let statement = try db.makeStatement(sql: """
                INSERT INTO step_inputs(scope, key, inputs, created_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(scope) DO UPDATE SET key = excluded.key, inputs = excluded.inputs, created_at = excluded.created_at
                """)
            for r in records {
                for scope in r.scopes {
                    try statement.execute(arguments: [scope.description, r.key.description, r.inputs, date.timeIntervalSince1970])
                }
            }
        }
    }
}
