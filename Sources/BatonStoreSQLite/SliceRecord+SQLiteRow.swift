import BatonSQLite
import BatonStore

extension SliceRecord {
    /// The columns `init(row:)` reads, in its order.
    static let sqliteColumns = """
        run_id, number, attempt, started_at, finished_at, cursor_in, cursor_out, outcome, exit_code, signal, \
        processed, succeeded, skipped, failed, error, message, truncated, retry_after_ms, log, owner, \
        input_tokens, output_tokens, cost_usd
        """

    /// Decodes a row selected with `sqliteColumns`.
    /// - Throws: `.corrupt` for an outcome this baton cannot read.
    init(row: SQLiteStatement) throws(StoreError) {
        guard let outcome = SliceOutcome(rawValue: row.string(7)) else {
            throw row.corrupt("slice \(row.int(1)) attempt \(row.int(2)) of run \(row.string(0)) has an unknown outcome")
        }
        self.init(runId: row.string(0), number: row.int(1), attempt: row.int(2), startedAt: row.int64(3),
                  finishedAt: row.optionalInt64(4), cursorIn: row.optionalString(5), cursorOut: row.optionalString(6),
                  outcome: outcome, exitCode: row.optionalInt(8), signal: row.optionalInt(9),
                  counts: Counts(processed: row.int(10), succeeded: row.int(11), skipped: row.int(12), failed: row.int(13)),
                  usage: TokenUsage(inputTokens: row.int(20), outputTokens: row.int(21), costUsd: row.double(22)),
                  error: row.optionalString(14), message: row.optionalString(15), truncated: row.bool(16),
                  retryAfterMs: row.optionalInt64(17), log: row.string(18), owner: row.optionalString(19))
    }

    /// Every column, as parameters ?1...?23 in `sqliteColumns` order, with `outcome` replaced.
    func sqliteValues(outcome: SliceOutcome) -> [SQLiteValue] {
        [.text(runId), .int(number), .int(attempt), .integer(startedAt), .int64(finishedAt), .string(cursorIn),
         .string(cursorOut), .text(outcome.rawValue), .int(exitCode), .int(signal), .int(counts.processed),
         .int(counts.succeeded), .int(counts.skipped), .int(counts.failed), .string(error), .string(message),
         .bool(truncated), .int64(retryAfterMs), .text(log), .string(owner),
         .int(usage.inputTokens), .int(usage.outputTokens), .real(usage.costUsd)]
    }

    static let sqlitePlaceholders = (1...23).map { "?\($0)" }.joined(separator: ", ")
}

extension ItemRecord {
    static let sqliteColumns = "run_id, slice, item_id, status, error"

    init(row: SQLiteStatement) {
        self.init(runId: row.string(0), slice: row.int(1), itemId: row.string(2), status: row.string(3),
                  error: row.optionalString(4))
    }

    static let sqliteInsert = "INSERT INTO items (run_id, slice, item_id, status, error) VALUES (?1, ?2, ?3, ?4, ?5)"

    var sqliteValues: [SQLiteValue] {
        [.text(runId), .int(slice), .text(itemId), .text(status), .string(error)]
    }
}
