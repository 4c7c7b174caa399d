import BatonSQLite
import BatonStore

extension SQLiteRunTables {
    /// Now, in epoch milliseconds, by the store's clock (SQLite's `julianday('now')`,
    /// the same for every statement of one step): leases are set and compared with it,
    /// never with a caller's clock.
    static let nowMs = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"

    /// One conditional UPDATE: free, ours already, its lease run out by the store's
    /// clock, or held by `replacing` (an owner the caller found dead). The epoch goes up.
    func claim(runId: String, owner: String, leaseMs: Int64, replacing: String?) throws(StoreError) -> RunRecord? {
        try relaxed { () throws(StoreError) in
            try db.queryOne("""
                UPDATE runs SET owner = ?2, epoch = epoch + 1, lease_expires_at = \(Self.nowMs) + ?3 \
                WHERE id = ?1 AND (owner IS NULL OR owner = ?2 OR lease_expires_at < \(Self.nowMs) OR owner = ?4) \
                RETURNING \(RunRecord.sqliteColumns)
                """, [.text(runId), .text(owner), .integer(leaseMs), .string(replacing)], row: RunRecord.init)
        }
    }

    func renew(_ lease: Lease, leaseMs: Int64) throws(StoreError) -> Int64 {
        try relaxed { () throws(StoreError) in
            let until = try db.queryOne("""
                UPDATE runs SET lease_expires_at = \(Self.nowMs) + ?4 WHERE id = ?1 AND owner = ?2 AND epoch = ?3 \
                RETURNING lease_expires_at
                """, lease.sqliteValues + [.integer(leaseMs)], row: { $0.int64(0) })
            guard let until else { throw try refusal(lease, "") }
            return until
        }
    }

    func release(_ lease: Lease) throws(StoreError) -> Bool {
        try relaxed { () throws(StoreError) in
            try db.execute("UPDATE runs SET owner = NULL, lease_expires_at = NULL WHERE id = ?1 AND owner = ?2 AND epoch = ?3",
                           lease.sqliteValues)
            return db.changes > 0
        }
    }

    func endRun(_ lease: Lease, status: RunStatus, error: String?, at: Int64) throws(StoreError) -> RunRecord {
        precondition(status.isFinished, "endRun with status \(status)")
        return try db.transaction { () throws(StoreError) in
            let run = try db.queryOne("""
                UPDATE runs SET status = ?4, error = ?5, finished_at = ?6, updated_at = max(updated_at, ?6), owner = NULL, \
                lease_expires_at = NULL WHERE id = ?1 AND owner = ?2 AND epoch = ?3 \
                RETURNING \(RunRecord.sqliteColumns)
                """, lease.sqliteValues + [.text(status.rawValue), .string(error), .integer(at)], row: RunRecord.init)
            guard let run else { throw try refusal(lease, "") }
            return run
        }
    }

    func reopen(_ lease: Lease, at: Int64) throws(StoreError) -> RunRecord {
        try db.transaction { () throws(StoreError) in
            let run = try db.queryOne("""
                UPDATE runs SET status = 'running', cancel_requested = 0, error = NULL, finished_at = NULL, \
                failed_attempts = 0, updated_at = max(updated_at, ?4) WHERE id = ?1 AND owner = ?2 AND epoch = ?3 \
                RETURNING \(RunRecord.sqliteColumns)
                """, lease.sqliteValues + [.integer(at)], row: RunRecord.init)
            guard let run else { throw try refusal(lease, "") }
            return run
        }
    }

    /// Sets the flag of an unfinished run that does not have it yet; a finished run, or
    /// one already flagged, is returned as it is.
    func requestCancel(runId: String, at: Int64) throws(StoreError) -> RunRecord? {
        try db.transaction { () throws(StoreError) in
            try db.execute("""
                UPDATE runs SET cancel_requested = 1, updated_at = max(updated_at, ?2) \
                WHERE id = ?1 AND cancel_requested = 0 AND status NOT IN (\(Self.finishedStatuses))
                """, [.text(runId), .integer(at)])
            return try run(id: runId)
        }
    }

    /// Primary-key lookups only: cheap enough to ask every 250 ms.
    func watch(_ leases: [Lease]) throws(StoreError) -> RunWatch {
        var out = RunWatch()
        for lease in leases {
            let row = try db.queryOne("SELECT cancel_requested, owner, epoch FROM runs WHERE id = ?1", [.text(lease.runId)]) { r in
                (cancel: r.bool(0), owner: r.optionalString(1), epoch: r.int64(2))
            }
            guard let row else {
                out.lost[lease.runId] = notFound(lease.runId)
                continue
            }
            if row.cancel { out.cancelRequested.insert(lease.runId) }
            if row.owner != lease.owner || row.epoch != lease.epoch {
                out.lost[lease.runId] = .fenced(lease, current: (row.owner, row.epoch), location: db.path)
            }
        }
        return out
    }

    /// Why a write under `lease` changed nothing: `.fenced` when the run's owner or epoch
    /// moved on, `.notFound` when it is gone, else `.conflict` with `otherwise`.
    func refusal(_ lease: Lease, _ otherwise: String) throws(StoreError) -> StoreError {
        let now = try db.queryOne("SELECT owner, epoch FROM runs WHERE id = ?1", [.text(lease.runId)]) { row in
            (owner: row.optionalString(0), epoch: row.int64(1))
        }
        guard let now else { return notFound(lease.runId) }
        if now.owner != lease.owner || now.epoch != lease.epoch {
            return .fenced(lease, current: now, location: db.path)
        }
        return StoreError(.conflict, location: db.path, otherwise.isEmpty ? "run \(lease.runId) refused the write" : otherwise)
    }
}

extension Lease {
    /// ?1 id, ?2 owner, ?3 epoch: the condition every driver's write carries.
    var sqliteValues: [SQLiteValue] { [.text(runId), .text(owner), .integer(epoch)] }
}
