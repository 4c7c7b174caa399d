import BatonPostgres
import BatonStore

extension PostgresRunTables {
    /// One conditional UPDATE: free, ours already, its lease run out by the database's
    /// clock, or held by `replacing` (an owner the caller found dead). The epoch goes
    /// up. Two daemons racing: the second waits for the first's row lock, then the
    /// server checks the condition again against the row the first left (READ
    /// COMMITTED), which a live lease fails.
    ///
    /// A lease that ran out while the server was down is not out yet: expiry counts
    /// only once the server has been up for a whole lease of the holder's length
    /// (`lease_ms`, from `pg_postmaster_start_time()`), so after a restart every holder
    /// gets one lease to renew before another daemon may take its run (the slice it
    /// kept running meanwhile commits, and does not run again elsewhere). The holder's
    /// length, not the claimer's: a daemon with a long lease must not wait that long
    /// for a short one that simply ran out.
    func claim(runId: String, owner: String, leaseMs: Int64, replacing: String?) throws(StoreError) -> RunRecord? {
        try db.transaction { () throws(StoreError) in
            try db.queryOne("""
                UPDATE runs SET owner = $2, epoch = epoch + 1, lease_expires_at = \(Self.nowMs) + $3, lease_ms = $3 \
                WHERE id = $1 AND (owner IS NULL OR owner = $2 OR owner = $4::text \
                OR (lease_expires_at < \(Self.nowMs) AND \(Self.serverStartMs) + coalesce(lease_ms, $3) < \(Self.nowMs))) \
                RETURNING \(RunRecord.pgColumns)
                """, [.text(runId), .text(owner), .integer(leaseMs), .string(replacing)], row: decodeRun)
        }
    }

    func renew(_ lease: Lease, leaseMs: Int64) throws(StoreError) -> Int64 {
        try db.transaction { () throws(StoreError) in
            let until = try db.queryOne("""
                UPDATE runs SET lease_expires_at = \(Self.nowMs) + $4, lease_ms = $4 WHERE id = $1 AND owner = $2 AND epoch = $3 \
                RETURNING lease_expires_at
                """, lease.pgValues + [.integer(leaseMs)], row: { $0.int64(0) })
            guard let until else { throw try refusal(lease, "") }
            return until
        }
    }

    func release(_ lease: Lease) throws(StoreError) -> Bool {
        try db.transaction { () throws(StoreError) in
            let letGo = try db.queryOne("""
                UPDATE runs SET owner = NULL, lease_expires_at = NULL WHERE id = $1 AND owner = $2 AND epoch = $3 \
                RETURNING job, status
                """, lease.pgValues, row: { (job: $0.string(0), status: $0.string(1)) })
            guard let letGo else { return false }
            // Unfinished: it waits for a driver, any daemon's.
            if RunStatus(rawValue: letGo.status)?.isFinished == false { try notify(.waiting, run: lease.runId, job: letGo.job) }
            return true
        }
    }

    func endRun(_ lease: Lease, status: RunStatus, error: String?, at: Int64) throws(StoreError) -> RunRecord {
        precondition(status.isFinished, "endRun with status \(status)")
        return try db.transaction { () throws(StoreError) in
            let run = try db.queryOne("""
                UPDATE runs SET status = $4, error = $5, finished_at = $6, updated_at = greatest(updated_at, $6), owner = NULL, \
                lease_expires_at = NULL WHERE id = $1 AND owner = $2 AND epoch = $3 \
                RETURNING \(RunRecord.pgColumns)
                """, lease.pgValues + [.text(status.rawValue), .string(error), .integer(at)], row: decodeRun)
            guard let run else { throw try refusal(lease, "") }
            try notify(.ended, run: run.id, job: run.job)
            return run
        }
    }

    func reopen(_ lease: Lease, at: Int64) throws(StoreError) -> RunRecord {
        try db.transaction { () throws(StoreError) in
            let run = try db.queryOne("""
                UPDATE runs SET status = 'running', cancel_requested = false, error = NULL, finished_at = NULL, \
                failed_attempts = 0, updated_at = greatest(updated_at, $4) WHERE id = $1 AND owner = $2 AND epoch = $3 \
                RETURNING \(RunRecord.pgColumns)
                """, lease.pgValues + [.integer(at)], row: decodeRun)
            guard let run else { throw try refusal(lease, "") }
            return run
        }
    }

    /// Sets the flag of an unfinished run that does not have it yet; a finished run, or
    /// one already flagged, is returned as it is.
    func requestCancel(runId: String, at: Int64) throws(StoreError) -> RunRecord? {
        try db.transaction { () throws(StoreError) in
            let job = try db.queryOne("""
                UPDATE runs SET cancel_requested = true, updated_at = greatest(updated_at, $2) \
                WHERE id = $1 AND NOT cancel_requested AND status NOT IN (\(Self.finishedStatuses)) RETURNING job
                """, [.text(runId), .integer(at)], row: { $0.string(0) })
            // Its driver, on whichever daemon, hears of it at the commit.
            if let job { try notify(.cancel, run: runId, job: job) }
            return try run(id: runId)
        }
    }

    /// One primary-key read for all leases: cheap enough to ask every 250 ms.
    func watch(_ leases: [Lease]) throws(StoreError) -> RunWatch {
        var found: [String: (cancel: Bool, owner: String?, epoch: Int64)] = [:]
        for (id, row) in try db.query("SELECT id, cancel_requested, owner, epoch FROM runs WHERE id = ANY($1::text[])",
                                      [.textArray(leases.map(\.runId))], row: { r in
            (r.string(0), (cancel: r.bool(1), owner: r.optionalString(2), epoch: r.int64(3)))
        }) {
            found[id] = row
        }
        var out = RunWatch()
        for lease in leases {
            guard let row = found[lease.runId] else {
                out.lost[lease.runId] = notFound(lease.runId)
                continue
            }
            if row.cancel { out.cancelRequested.insert(lease.runId) }
            if row.owner != lease.owner || row.epoch != lease.epoch {
                out.lost[lease.runId] = .fenced(lease, current: (row.owner, row.epoch), location: location)
            }
        }
        return out
    }

    /// Why a write under `lease` changed nothing: `.fenced` when the run's owner or epoch
    /// moved on, `.notFound` when it is gone, else `.conflict` with `otherwise`.
    func refusal(_ lease: Lease, _ otherwise: String) throws(StoreError) -> StoreError {
        let now = try db.queryOne("SELECT owner, epoch FROM runs WHERE id = $1", [.text(lease.runId)]) { row in
            (owner: row.optionalString(0), epoch: row.int64(1))
        }
        guard let now else { return notFound(lease.runId) }
        if now.owner != lease.owner || now.epoch != lease.epoch {
            return .fenced(lease, current: now, location: location)
        }
        return StoreError(.conflict, location: location, otherwise.isEmpty ? "run \(lease.runId) refused the write" : otherwise)
    }
}

extension Lease {
    /// $1 id, $2 owner, $3 epoch: the condition every driver's write carries.
    var pgValues: [PostgresValue] { [.text(runId), .text(owner), .integer(epoch)] }
}
