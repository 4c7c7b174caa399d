import BatonSQLite
import BatonStore

extension SQLiteRunTables {
    /// A slice's start record (outcome `running`), unless its key exists already.
    func insertStart(_ slice: SliceRecord) throws(StoreError) {
        try db.execute("""
            INSERT INTO slices (\(SliceRecord.sqliteColumns)) VALUES (\(SliceRecord.sqlitePlaceholders)) \
            ON CONFLICT (run_id, number, attempt) DO NOTHING
            """, slice.sqliteValues(outcome: .running))
    }

    /// Inserts the slice as `running` unless a row with its key exists (idempotent), and
    /// renews the run's owner (kept when the slice names none) and lease.
    ///
    /// This one commit is not flushed to disk on its own (WAL with synchronous=NORMAL):
    /// the operating system still has it after a kill -9 of baton, and the next FULL
    /// commit (the slice's finish) flushes it. Only a power failure can lose it, and
    /// then the slice simply runs again under the same attempt number; cursors and
    /// outcomes are always committed with the configured durability.
    func startSlice(_ slice: SliceRecord, leaseExpiresAt: Int64?) throws(StoreError) {
        try relaxed { () throws(StoreError) in
            try db.execute("""
                UPDATE runs SET owner = coalesce(?2, owner), lease_expires_at = ?3, updated_at = max(updated_at, ?4), \
                status = CASE status WHEN 'queued' THEN 'running' ELSE status END \
                WHERE id = ?1
                """, [.text(slice.runId), .string(slice.owner), .int64(leaseExpiresAt), .integer(slice.startedAt)])
            if db.changes == 0 { throw notFound(slice.runId) }
            try insertStart(slice)
        }
    }

    /// The claim of a queued run and its first slice's start, in one transaction and one
    /// commit (not flushed on its own, as `startSlice`): a backlog of queued runs then
    /// costs no more per run than runs started at once.
    func startQueued(_ slice: SliceRecord, leaseExpiresAt: Int64, now: Int64) throws(StoreError) -> RunRecord? {
        guard let owner = slice.owner else { preconditionFailure("startQueued needs the slice's owner") }
        return try relaxed { () throws(StoreError) -> RunRecord? in
            try db.execute("""
                UPDATE runs SET owner = ?2, lease_expires_at = ?3, updated_at = max(updated_at, ?4), status = 'running' \
                WHERE id = ?1 AND status = 'queued' AND (owner IS NULL OR owner = ?2 OR lease_expires_at < ?5)
                """, [.text(slice.runId), .text(owner), .integer(leaseExpiresAt), .integer(slice.startedAt), .integer(now)])
            guard db.changes == 1 else { return nil }
            try insertStart(slice)
            return try readRun(id: slice.runId)
        }
    }

    /// The slice row (the `running` one of its key updated, or a new one), its items and
    /// the run row, in one transaction. The cancel flag is sticky here: a cancel
    /// requested while the slice ran is not lost by writing a run read before it.
    func finishSlice(_ completion: SliceCompletion) throws(StoreError) -> RunRecord {
        let slice = completion.slice
        precondition(slice.runId == completion.run.id, "slice of run \(slice.runId) completes run \(completion.run.id)")
        precondition(slice.outcome != .running, "finishSlice with outcome running")
        return try db.transaction { () throws(StoreError) in
            if try run(id: slice.runId) == nil { throw notFound(slice.runId) }
            // Insert, or finish the running row; a row that finished already (marked lost
            // by whoever took the run over) stays as it is, and this completion is refused.
            try db.execute("""
                INSERT INTO slices (\(SliceRecord.sqliteColumns)) VALUES (\(SliceRecord.sqlitePlaceholders)) \
                ON CONFLICT (run_id, number, attempt) DO UPDATE SET \
                started_at = excluded.started_at, finished_at = excluded.finished_at, \
                cursor_in = excluded.cursor_in, cursor_out = excluded.cursor_out, outcome = excluded.outcome, \
                exit_code = excluded.exit_code, signal = excluded.signal, processed = excluded.processed, \
                succeeded = excluded.succeeded, skipped = excluded.skipped, failed = excluded.failed, \
                error = excluded.error, message = excluded.message, truncated = excluded.truncated, \
                retry_after_ms = excluded.retry_after_ms, log = excluded.log, owner = excluded.owner, \
                input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, cost_usd = excluded.cost_usd \
                WHERE slices.outcome = 'running'
                """, slice.sqliteValues(outcome: slice.outcome))
            if db.changes == 0 { throw finishedAlready(slice.runId, slice.number, slice.attempt) }
            for item in completion.items {
                do throws(StoreError) {
                    try db.execute(ItemRecord.sqliteInsert, item.sqliteValues)
                } catch where error.kind == .notFound {
                    throw StoreError(.notFound, location: db.path,
                                     "an item of slice \(slice.number) names run \(item.runId), which does not exist",
                                     code: error.code)
                }
            }
            try writeRun(completion.run, cancelRule: "max(cancel_requested, ?19)")
            if let next = completion.next {
                precondition(next.runId == slice.runId, "the next slice of run \(slice.runId) names run \(next.runId)")
                try insertStart(next)
            }
            return try readRun(id: slice.runId)
        }
    }

    /// Marks the `running` slice `lost` and writes the run, in one transaction.
    /// - Throws: `.conflict` when the slice is not running (its driver finished it after
    ///   all), `.notFound` when there is no such slice or run.
    func markSliceLost(runId: String, number: Int, attempt: Int, at: Int64, run: RunRecord) throws(StoreError) -> RunRecord {
        precondition(run.id == runId, "marking a slice of run \(runId) lost writes run \(run.id)")
        return try db.transaction { () throws(StoreError) in
            let key: [SQLiteValue] = [.text(runId), .int(number), .int(attempt)]
            try db.execute("""
                UPDATE slices SET outcome = 'lost', finished_at = ?4 \
                WHERE run_id = ?1 AND number = ?2 AND attempt = ?3 AND outcome = 'running'
                """, key + [.integer(at)])
            if db.changes == 0 {
                let exists = try db.queryOne("SELECT 1 FROM slices WHERE run_id = ?1 AND number = ?2 AND attempt = ?3",
                                             key) { _ in true } ?? false
                if exists { throw finishedAlready(runId, number, attempt) }
                throw StoreError(.notFound, location: db.path, "run \(runId) has no slice \(number) attempt \(attempt)")
            }
            try writeRun(run, cancelRule: "max(cancel_requested, ?19)")
            return try readRun(id: runId)
        }
    }

    func slices(runId: String) throws(StoreError) -> [SliceRecord] {
        try db.query("SELECT \(SliceRecord.sqliteColumns) FROM slices WHERE run_id = ?1 ORDER BY number, attempt",
                     [.text(runId)], row: SliceRecord.init)
    }

    func items(runId: String, status: String?) throws(StoreError) -> [ItemRecord] {
        if let status {
            return try db.query("""
                SELECT \(ItemRecord.sqliteColumns) FROM items WHERE run_id = ?1 AND status = ?2 ORDER BY seq
                """, [.text(runId), .text(status)], row: ItemRecord.init)
        }
        return try db.query("SELECT \(ItemRecord.sqliteColumns) FROM items WHERE run_id = ?1 ORDER BY seq",
                            [.text(runId)], row: ItemRecord.init)
    }

    private func finishedAlready(_ runId: String, _ number: Int, _ attempt: Int) -> StoreError {
        StoreError(.conflict, location: db.path, "slice \(number) attempt \(attempt) of run \(runId) is finished already",
                   hint: "another process took the run over (its lease had expired)")
    }
}
