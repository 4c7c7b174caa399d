import BatonSQLite
import BatonStore

extension SQLiteRunTables {
    /// The slice's `running` row, the run `running` with its lease renewed, in one
    /// transaction, only while `lease` holds the run at that slice and attempt.
    ///
    /// This commit is not flushed on its own (WAL with synchronous=NORMAL, see
    /// `relaxed`): a crash of baton never loses it, and the slice's commit flushes it.
    /// Only a power failure can, and then the slice simply runs again under the same
    /// attempt number.
    func startSlice(_ lease: Lease, _ start: SliceStart, leaseMs: Int64) throws(StoreError) -> RunRecord {
        try relaxed { () throws(StoreError) in
            // `status` is named only when it changes (a queued run's first slice): SQLite
            // rewrites the entries of every index on a column an UPDATE sets, changed or not.
            try db.execute("UPDATE runs SET status = 'running' WHERE id = ?1 AND owner = ?2 AND epoch = ?3 AND status = 'queued'",
                           lease.sqliteValues)
            var run = try db.queryOne("""
                UPDATE runs SET lease_expires_at = \(Self.nowMs) + ?6, updated_at = max(updated_at, ?7) \
                WHERE id = ?1 AND owner = ?2 AND epoch = ?3 AND next_slice = ?4 AND next_attempt = ?5 \
                AND status = 'running' \
                RETURNING \(RunRecord.sqliteColumns)
                """, lease.sqliteValues + [.int(start.number), .int(start.attempt), .integer(leaseMs), .integer(start.startedAt)],
                row: RunRecord.init)
            guard let started = run else {
                throw try refusal(lease, "run \(lease.runId) is not waiting for slice \(start.number) attempt \(start.attempt)")
            }
            run = started
            let slice = SliceRecord(runId: lease.runId, number: start.number, attempt: start.attempt, startedAt: start.startedAt,
                                    cursorIn: start.cursorIn, owner: lease.owner)
            do throws(StoreError) {
                try db.execute("INSERT INTO slices (\(SliceRecord.sqliteColumns)) VALUES (\(SliceRecord.sqlitePlaceholders))",
                               slice.sqliteValues(outcome: .running))
            } catch where error.kind == .conflict {
                throw StoreError(.conflict, location: db.path,
                                 "slice \(start.number) attempt \(start.attempt) of run \(lease.runId) has started before",
                                 hint: "a takeover marks a slice left running lost and starts the next attempt", code: error.code)
            }
            return started
        }
    }

    /// The slice row (its `running` row finished), its items and the run's progress, in
    /// one transaction, only while `lease` holds the run at that slice.
    func commitSlice(_ lease: Lease, _ commit: SliceCommit) throws(StoreError) -> RunRecord {
        let slice = commit.slice, p = commit.progress
        precondition(slice.runId == lease.runId, "slice of run \(slice.runId) committed under a lease of \(lease.runId)")
        precondition(slice.outcome != .running, "commitSlice with outcome running")
        return try db.transaction { () throws(StoreError) in
            // The progress first, conditional on the lease; `status` only when the run
            // ends (see startSlice: naming an indexed column rewrites its index entries).
            try db.execute("""
                UPDATE runs SET cursor = ?6, next_slice = ?7, next_attempt = ?8, failed_attempts = ?9, \
                slices_done = ?10, processed = ?11, succeeded = ?12, skipped = ?13, failed = ?14, total = ?15, \
                message = ?16, error = ?17, input_tokens = ?18, output_tokens = ?19, cost_usd = ?20, \
                updated_at = max(updated_at, ?21) \
                WHERE id = ?1 AND owner = ?2 AND epoch = ?3 AND next_slice = ?4 AND next_attempt = ?5 AND status = 'running'
                """, lease.sqliteValues + [
                    .int(slice.number), .int(slice.attempt), .string(p.cursor), .int(p.nextSlice),
                    .int(p.nextAttempt), .int(p.failedAttempts), .int(p.slicesDone), .int(p.counts.processed),
                    .int(p.counts.succeeded), .int(p.counts.skipped), .int(p.counts.failed), .int(p.total), .string(p.message),
                    .string(p.error), .int(p.usage.inputTokens), .int(p.usage.outputTokens), .real(p.usage.costUsd),
                    .integer(p.updatedAt)])
            if db.changes == 0 { throw try refusal(lease, "run \(lease.runId) is not at slice \(slice.number) attempt \(slice.attempt)") }
            if p.status != .running {
                // The run ends here and lets go of itself.
                try db.execute("""
                    UPDATE runs SET status = ?2, finished_at = ?3, owner = NULL, lease_expires_at = NULL WHERE id = ?1
                    """, [.text(lease.runId), .text(p.status.rawValue), .integer(p.updatedAt)])
            }
            try db.execute("""
                UPDATE slices SET finished_at = ?4, cursor_out = ?5, outcome = ?6, exit_code = ?7, signal = ?8, \
                processed = ?9, succeeded = ?10, skipped = ?11, failed = ?12, error = ?13, message = ?14, truncated = ?15, \
                retry_after_ms = ?16, log = ?17, input_tokens = ?18, output_tokens = ?19, cost_usd = ?20 \
                WHERE run_id = ?1 AND number = ?2 AND attempt = ?3 AND outcome = 'running'
                """, [.text(slice.runId), .int(slice.number), .int(slice.attempt), .int64(slice.finishedAt),
                      .string(slice.cursorOut), .text(slice.outcome.rawValue), .int(slice.exitCode), .int(slice.signal),
                      .int(slice.counts.processed), .int(slice.counts.succeeded), .int(slice.counts.skipped),
                      .int(slice.counts.failed), .string(slice.error), .string(slice.message), .bool(slice.truncated),
                      .int64(slice.retryAfterMs), .text(slice.log), .int(slice.usage.inputTokens),
                      .int(slice.usage.outputTokens), .real(slice.usage.costUsd)])
            if db.changes == 0 {
                throw StoreError(.conflict, location: db.path,
                                 "slice \(slice.number) attempt \(slice.attempt) of run \(slice.runId) is not running",
                                 hint: "a slice is committed once, after startSlice")
            }
            for item in commit.items {
                precondition(item.runId == slice.runId, "an item of run \(slice.runId) names run \(item.runId)")
                try db.execute(ItemRecord.sqliteInsert, item.sqliteValues)
            }
            return try readRun(id: slice.runId)
        }
    }

    /// Marks the `running` slice `lost`; the run's next attempt of it comes next.
    func markSliceLost(_ lease: Lease, number: Int, attempt: Int, at: Int64) throws(StoreError) -> RunRecord {
        try db.transaction { () throws(StoreError) in
            try db.execute("""
                UPDATE runs SET next_slice = ?4, next_attempt = ?5 + 1, updated_at = max(updated_at, ?6) \
                WHERE id = ?1 AND owner = ?2 AND epoch = ?3
                """, lease.sqliteValues + [.int(number), .int(attempt), .integer(at)])
            if db.changes == 0 { throw try refusal(lease, "run \(lease.runId) is gone") }
            try db.execute("""
                UPDATE slices SET outcome = 'lost', finished_at = ?4 \
                WHERE run_id = ?1 AND number = ?2 AND attempt = ?3 AND outcome = 'running'
                """, [.text(lease.runId), .int(number), .int(attempt), .integer(at)])
            if db.changes == 0 {
                throw StoreError(.conflict, location: db.path, "slice \(number) attempt \(attempt) of run \(lease.runId) is not running")
            }
            return try readRun(id: lease.runId)
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
}
