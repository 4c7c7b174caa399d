import BatonJSON
import BatonPostgres
import BatonStore

extension RunRecord {
    /// The columns `init(row:)` reads, in its order; `SELECT` and `RETURNING` use them.
    static let pgColumns = """
        id, job, trigger_kind, status, scheduled_at, created_at, updated_at, finished_at, cursor, \
        next_slice, next_attempt, failed_attempts, slices_done, processed, succeeded, skipped, failed, total, \
        message, error, params, payload, command, parent_run, owner, lease_expires_at, cancel_requested, \
        input_tokens, output_tokens, cost_usd, epoch
        """

    /// Decodes a row selected with `pgColumns`.
    /// - Throws: `.corrupt` for a trigger, status or command this baton cannot read.
    init(pg row: PostgresRow, location: String) throws(StoreError) {
        let id = row.string(0)
        guard let trigger = Trigger(rawValue: row.string(2)) else {
            throw row.corrupt("run \(id) has an unknown trigger '\(row.string(2))'", location: location)
        }
        guard let status = RunStatus(rawValue: row.string(3)) else {
            throw row.corrupt("run \(id) has an unknown status '\(row.string(3))'", location: location)
        }
        var command: [String]?
        if let json = row.optionalString(22) {
            let bad = row.corrupt("run \(id) has a command that is not a JSON array of strings", location: location)
            guard case let .array(list)? = JSONValue.parse(Array(json.utf8)) else { throw bad }
            command = try list.map { (word) throws(StoreError) -> String in
                guard case let .string(s) = word else { throw bad }
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
    static func pgCommand(_ command: [String]?) -> PostgresValue {
        guard let command else { return .null }
        return .text(JSONValue(command).text)
    }
}

extension NewRun {
    /// A run created with an owner is held by it at epoch 1, its lease from the
    /// database's clock; without one it is free at epoch 0.
    static let pgInsert = """
        INSERT INTO runs (id, job, trigger_kind, status, scheduled_at, created_at, updated_at, cursor, params, \
        payload, command, parent_run, owner, lease_expires_at, lease_ms, epoch) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, \
        $8, $9, $10, $11, $12::text, CASE WHEN $12::text IS NULL THEN NULL ELSE \(PostgresRunTables.nowMs) + $13::bigint END, \
        CASE WHEN $12::text IS NULL THEN NULL ELSE $13::bigint END, CASE WHEN $12::text IS NULL THEN 0 ELSE 1 END)
        """

    var pgValues: [PostgresValue] {
        [.text(id), .text(job), .text(trigger.rawValue), .text(status.rawValue), .integer(scheduledAt),
         .integer(createdAt), .string(cursor), .text(params), .string(payload), RunRecord.pgCommand(command),
         .string(parentRun), .string(owner), .integer(leaseMs ?? 0)]
    }
}

extension SliceRecord {
    /// The columns `init(pg:)` reads, in its order.
    static let pgColumns = """
        run_id, number, attempt, started_at, finished_at, cursor_in, cursor_out, outcome, exit_code, signal, \
        processed, succeeded, skipped, failed, error, message, truncated, retry_after_ms, log, owner, \
        input_tokens, output_tokens, cost_usd
        """

    /// Decodes a row selected with `pgColumns`.
    /// - Throws: `.corrupt` for an outcome this baton cannot read.
    init(pg row: PostgresRow, location: String) throws(StoreError) {
        guard let outcome = SliceOutcome(rawValue: row.string(7)) else {
            throw row.corrupt("slice \(row.int(1)) attempt \(row.int(2)) of run \(row.string(0)) has an unknown outcome",
                              location: location)
        }
        self.init(runId: row.string(0), number: row.int(1), attempt: row.int(2), startedAt: row.int64(3),
                  finishedAt: row.optionalInt64(4), cursorIn: row.optionalString(5), cursorOut: row.optionalString(6),
                  outcome: outcome, exitCode: row.optionalInt(8), signal: row.optionalInt(9),
                  counts: Counts(processed: row.int(10), succeeded: row.int(11), skipped: row.int(12), failed: row.int(13)),
                  usage: TokenUsage(inputTokens: row.int(20), outputTokens: row.int(21), costUsd: row.double(22)),
                  error: row.optionalString(14), message: row.optionalString(15), truncated: row.bool(16),
                  retryAfterMs: row.optionalInt64(17), log: row.string(18), owner: row.optionalString(19))
    }

    /// Every column, as parameters $1…$23 in `pgColumns` order, with `outcome` replaced.
    func pgValues(outcome: SliceOutcome) -> [PostgresValue] {
        [.text(runId), .int(number), .int(attempt), .integer(startedAt), .int64(finishedAt), .string(cursorIn),
         .string(cursorOut), .text(outcome.rawValue), .int(exitCode), .int(signal), .int(counts.processed),
         .int(counts.succeeded), .int(counts.skipped), .int(counts.failed), .string(error), .string(message),
         .bool(truncated), .int64(retryAfterMs), .text(log), .string(owner),
         .int(usage.inputTokens), .int(usage.outputTokens), .real(usage.costUsd)]
    }

    static let pgPlaceholders = (1...23).map { "$\($0)" }.joined(separator: ", ")
}

extension ItemRecord {
    static let pgColumns = "run_id, slice, item_id, status, error"

    init(pg row: PostgresRow) {
        self.init(runId: row.string(0), slice: row.int(1), itemId: row.string(2), status: row.string(3),
                  error: row.optionalString(4))
    }
}
