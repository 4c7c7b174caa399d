import BatonPostgres
import BatonStore

extension PostgresRunTables {
    /// The slice's `running` row, the run `running` with its lease renewed, in one
    /// transaction, only while `lease` holds the run at that slice and attempt. One
    /// UPDATE: naming `status` when it does not change keeps it a HOT update (the
    /// server compares the indexed values, not the column list).
    func startSlice(_ lease: Lease, _ start: SliceStart, leaseMs: Int64) throws(StoreError) -> RunRecord {
        try db.transaction { () throws(StoreError) in
            let started = try db.queryOne("""
                UPDATE runs SET status = 'running', lease_expires_at = \(Self.nowMs) + $6, lease_ms = $6, \
                updated_at = greatest(updated_at, $7) \
                WHERE id = $1 AND owner = $2 AND epoch = $3 AND next_slice = $4 AND next_attempt = $5 \
                AND status IN ('running', 'queued') \
                RETURNING \(RunRecord.pgColumns)
                """, lease.pgValues + [.int(start.number), .int(start.attempt), .integer(leaseMs), .integer(start.startedAt)],
                row: decodeRun)
            guard let started else {
                throw try refusal(lease, "run \(lease.runId) is not waiting for slice \(start.number) attempt \(start.attempt)")
            }
            let slice = SliceRecord(runId: lease.runId, number: start.number, attempt: start.attempt, startedAt: start.startedAt,
                                    cursorIn: start.cursorIn, owner: lease.owner)
            do throws(StoreError) {
                try db.execute("INSERT INTO slices (\(SliceRecord.pgColumns)) VALUES (\(SliceRecord.pgPlaceholders))",
                               slice.pgValues(outcome: .running))
            } catch where error.kind == .conflict {
                throw StoreError(.conflict, location: location,
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
            // The progress, conditional on the lease; a commit that ends the run lets go
            // of it in the same UPDATE.
            let run = try db.queryOne("""
                UPDATE runs SET cursor = $6, next_slice = $7, next_attempt = $8, failed_attempts = $9, \
                slices_done = $10, processed = $11, succeeded = $12, skipped = $13, failed = $14, total = $15, \
                message = $16, error = $17, input_tokens = $18, output_tokens = $19, cost_usd = $20, \
                updated_at = greatest(updated_at, $21), status = $22::text, \
                finished_at = CASE WHEN $22::text = 'running' THEN finished_at ELSE $21 END, \
                owner = CASE WHEN $22::text = 'running' THEN owner END, \
                lease_expires_at = CASE WHEN $22::text = 'running' THEN lease_expires_at END \
                WHERE id = $1 AND owner = $2 AND epoch = $3 AND next_slice = $4 AND next_attempt = $5 AND status = 'running' \
                RETURNING \(RunRecord.pgColumns)
                """, lease.pgValues + [
                    .int(slice.number), .int(slice.attempt), .string(p.cursor), .int(p.nextSlice),
                    .int(p.nextAttempt), .int(p.failedAttempts), .int(p.slicesDone), .int(p.counts.processed),
                    .int(p.counts.succeeded), .int(p.counts.skipped), .int(p.counts.failed), .int(p.total), .string(p.message),
                    .string(p.error), .int(p.usage.inputTokens), .int(p.usage.outputTokens), .real(p.usage.costUsd),
                    .integer(p.updatedAt), .text(p.status.rawValue)], row: decodeRun)
            guard let run else {
                throw try refusal(lease, "run \(lease.runId) is not at slice \(slice.number) attempt \(slice.attempt)")
            }
            let finished = try db.execute("""
                UPDATE slices SET finished_at = $4, cursor_out = $5, outcome = $6, exit_code = $7, signal = $8, \
                processed = $9, succeeded = $10, skipped = $11, failed = $12, error = $13, message = $14, truncated = $15, \
                retry_after_ms = $16, log = $17, input_tokens = $18, output_tokens = $19, cost_usd = $20 \
                WHERE run_id = $1 AND number = $2 AND attempt = $3 AND outcome = 'running'
                """, [.text(slice.runId), .int(slice.number), .int(slice.attempt), .int64(slice.finishedAt),
                      .string(slice.cursorOut), .text(slice.outcome.rawValue), .int(slice.exitCode), .int(slice.signal),
                      .int(slice.counts.processed), .int(slice.counts.succeeded), .int(slice.counts.skipped),
                      .int(slice.counts.failed), .string(slice.error), .string(slice.message), .bool(slice.truncated),
                      .int64(slice.retryAfterMs), .text(slice.log), .int(slice.usage.inputTokens),
                      .int(slice.usage.outputTokens), .real(slice.usage.costUsd)])
            if finished.affected == 0 {
                throw StoreError(.conflict, location: location,
                                 "slice \(slice.number) attempt \(slice.attempt) of run \(slice.runId) is not running",
                                 hint: "a slice is committed once, after startSlice")
            }
            if !commit.items.isEmpty {
                for item in commit.items {
                    precondition(item.runId == slice.runId, "an item of run \(slice.runId) names run \(item.runId)")
                }
                // One statement for all items, in reporting order (WITH ORDINALITY keeps it).
                try db.execute("""
                    INSERT INTO items (run_id, slice, item_id, status, error) \
                    SELECT $1, i.slice, i.item_id, i.status, i.error \
                    FROM unnest($2::integer[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS i(slice, item_id, status, error, n) \
                    ORDER BY i.n
                    """, [.text(slice.runId), .text("{" + commit.items.map { String($0.slice) }.joined(separator: ",") + "}"),
                          .textArray(commit.items.map(\.itemId)), .textArray(commit.items.map(\.status)),
                          .textArray(commit.items.map(\.error))])
            }
            if run.status.isFinished { try notify(.ended, run: run.id, job: run.job) }
            return run
        }
    }

    /// Marks the `running` slice `lost`; the run's next attempt of it comes next.
    func markSliceLost(_ lease: Lease, number: Int, attempt: Int, at: Int64) throws(StoreError) -> RunRecord {
        try db.transaction { () throws(StoreError) in
            let run = try db.queryOne("""
                UPDATE runs SET next_slice = $4, next_attempt = $5 + 1, updated_at = greatest(updated_at, $6) \
                WHERE id = $1 AND owner = $2 AND epoch = $3 RETURNING \(RunRecord.pgColumns)
                """, lease.pgValues + [.int(number), .int(attempt), .integer(at)], row: decodeRun)
            guard let run else { throw try refusal(lease, "run \(lease.runId) is gone") }
            let lost = try db.execute("""
                UPDATE slices SET outcome = 'lost', finished_at = $4 \
                WHERE run_id = $1 AND number = $2 AND attempt = $3 AND outcome = 'running'
                """, [.text(lease.runId), .int(number), .int(attempt), .integer(at)])
            if lost.affected == 0 {
                throw StoreError(.conflict, location: location, "slice \(number) attempt \(attempt) of run \(lease.runId) is not running")
            }
            return run
        }
    }
}
