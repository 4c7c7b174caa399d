import BatonJSON
import BatonSQLite
import BatonStore
import Foundation

extension RunRecord {
    /// The columns `init(row:)` reads, in its order; `SELECT` and `RETURNING` use them.
    static let sqliteColumns = """
        id, job, trigger_kind, status, scheduled_at, created_at, updated_at, finished_at, cursor, \
        next_slice, next_attempt, failed_attempts, slices_done, processed, succeeded, skipped, failed, total, \
        message, error, params, payload, command, parent_run, owner, lease_expires_at, cancel_requested, \
        input_tokens, output_tokens, cost_usd, epoch
        """

    /// Decodes a row selected with `sqliteColumns`.
    /// - Throws: `.corrupt` for a trigger, status or command this baton cannot read.
    init(row: SQLiteStatement) throws(StoreError) {
        let id = row.string(0)
        guard let trigger = Trigger(rawValue: row.string(2)) else {
            throw row.corrupt("run \(id) has an unknown trigger '\(row.string(2))'")
        }
        guard let status = RunStatus(rawValue: row.string(3)) else {
            throw row.corrupt("run \(id) has an unknown status '\(row.string(3))'")
        }
        var command: [String]?
        if let json = row.optionalString(22) {
            guard case let .array(list)? = JSONValue.parse(Array(json.utf8)) else {
                throw row.corrupt("run \(id) has a command that is not a JSON array of strings")
            }
            command = try list.map { (word) throws(StoreError) -> String in
                guard case let .string(s) = word else { throw row.corrupt("run \(id) has a command that is not a JSON array of strings") }
                return s
            }
        }
        self.init(id: id, job: row.string(1), trigger: trigger, status: status, scheduledAt: row.int64(4),
                  createdAt: row.int64(5), updatedAt: row.int64(6), finishedAt: row.optionalInt64(7),
                  cursor: row.optionalString(8), nextSlice: row.int(9), nextAttempt: row.int(10),
                  failedAttempts: row.int(11), slicesDone: row.int(12),
                  counts: Counts(processed: row.int(13), succeeded: row.int(14), skipped: row.int(15), failed: row.int(16)),
                  usage: TokenUsage(inputTokens: row.int(27), outputTokens: row.int(28), costUsd: row.double(29)),
                  total: row.optionalInt(17), message: row.optionalString(18), error: row.optionalString(19),
                  params: row.string(20), payload: row.optionalString(21), command: command,
                  parentRun: row.optionalString(23), owner: row.optionalString(24),
                  leaseExpiresAt: row.optionalInt64(25), epoch: row.int64(30), cancelRequested: row.bool(26))
    }

    /// `command` as stored: a JSON array of strings, or NULL.
    static func commandJSON(_ command: [String]?) -> SQLiteValue {
        guard let command else { return .null }
        return .text(JSONValue(command).text)
    }
}

extension NewRun {
    static let sqliteInsert = """
        INSERT INTO runs (id, job, trigger_kind, status, scheduled_at, created_at, updated_at, cursor, params, \
        payload, command, parent_run, owner, lease_expires_at, epoch) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, \
        ?10, ?11, ?12, CASE WHEN ?12 IS NULL THEN NULL ELSE \(SQLiteRunTables.nowMs) + ?13 END, ?12 IS NOT NULL)
        """

    var sqliteValues: [SQLiteValue] {
        [.text(id), .text(job), .text(trigger.rawValue), .text(status.rawValue), .integer(scheduledAt),
         .integer(createdAt), .string(cursor), .text(params), .string(payload), RunRecord.commandJSON(command),
         .string(parentRun), .string(owner), .integer(leaseMs ?? 0)]
    }
}
