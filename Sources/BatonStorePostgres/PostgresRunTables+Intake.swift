import BatonPostgres
import BatonStore

/// Fires, requests and locks: what several daemons race for. Each is decided by a
/// unique key (`INSERT … ON CONFLICT`), which the server resolves once whoever inserted
/// the key first has committed or rolled back, so exactly one of them wins.
extension PostgresRunTables {
    /// Each fire is a row unique on (job, scheduled_at): the daemon whose insert lands
    /// writes the run; the others' `ON CONFLICT DO NOTHING` inserts nothing, and they
    /// move on. Keys are taken in (job, time) order whatever the batch's order, so two
    /// daemons recording the same fires wait for each other instead of deadlocking.
    func recordFires(_ fires: [FireRecord], at: Int64) throws(StoreError) -> [Bool] {
        let order = fires.indices.sorted { (fires[$0].job, fires[$0].scheduledAt) < (fires[$1].job, fires[$1].scheduledAt) }
        return try db.transaction { () throws(StoreError) in
            var out = [Bool](repeating: false, count: fires.count)
            for i in order {
                let f = fires[i]
                let recorded = try db.execute("""
                    INSERT INTO fires (job, scheduled_at, kind, run_id, recorded_at) VALUES ($1, $2, $3, $4, $5) \
                    ON CONFLICT (job, scheduled_at) DO NOTHING
                    """, [.text(f.job), .integer(f.scheduledAt), .text(f.kind.rawValue), .string(f.run?.id), .integer(at)])
                    .affected > 0
                if recorded, let run = f.run {
                    do throws(StoreError) { try db.execute(NewRun.pgInsert, run.pgValues) } catch where error.kind == .conflict {
                        throw StoreError(.conflict, location: location, "a run with id \(run.id) exists already", code: error.code)
                    }
                    if run.owner == nil, !run.status.isFinished { try notify(.waiting, run: run.id, job: run.job) }
                }
                out[i] = recorded
            }
            return out
        }
    }

    /// As on SQLite, decided per request in order; the keys are taken by inserting them
    /// (an expired key is taken over in the same statement), so two daemons given the
    /// same key or signature at once start one run: the second finds the first's key.
    func createRuns(_ batch: [RunIntake], at: Int64) throws(StoreError) -> [IntakeOutcome] {
        try db.transaction { () throws(StoreError) in
            if at - lastKeySweep > 60_000 {
                try db.execute("DELETE FROM request_keys WHERE expires_at <= $1", [.integer(at)])
                lastKeySweep = at
            }
            var out: [IntakeOutcome] = []
            for item in batch {
                if let known = try knownOutcome(item, at: at) {
                    out.append(known)
                    continue
                }
                let taken = try db.savepoint { () throws(StoreError) -> Bool in
                    for (scope, key, expires) in keys(item) {
                        guard try takeKey(job: scope, key: key, runId: item.run.id, at: at, expiresAt: expires) else { return false }
                    }
                    do throws(StoreError) { try db.execute(NewRun.pgInsert, item.run.pgValues) } catch where error.kind == .conflict {
                        throw StoreError(.conflict, location: location, "a run with id \(item.run.id) exists already", code: error.code)
                    }
                    return true
                }
                if taken {
                    // A queued run waits for a driver: any daemon's. A running one is
                    // claimed at once by the daemon that took the request.
                    if item.run.owner == nil, item.run.status == .queued {
                        try notify(.waiting, run: item.run.id, job: item.run.job)
                    }
                    out.append(.created(RunRecord(item.run)))
                } else {
                    // Another daemon took a key between our look and our insert: the keys
                    // taken here were undone with the savepoint; answer as its key says.
                    out.append(try knownOutcome(item, at: at) ?? .replay)
                }
            }
            return out
        }
    }

    /// The keys a created run of `item` leaves: (scope, key, expiry).
    private func keys(_ item: RunIntake) -> [(String, String, Int64)] {
        var out: [(String, String, Int64)] = []
        if let k = item.idempotencyKey { out.append((item.run.job, "idem:" + k, item.idempotencyExpiresAt)) }
        if let s = item.replayKey { out.append((item.replayScope ?? item.run.job, "sig:" + s, item.replayExpiresAt)) }
        return out
    }

    /// What a live key (or the refusal) decides for `item`, exactly as on SQLite; nil
    /// when it may start a run.
    private func knownOutcome(_ item: RunIntake, at: Int64) throws(StoreError) -> IntakeOutcome? {
        let job = item.run.job
        let first = try item.idempotencyKey.map { k throws(StoreError) in try liveKey(job: job, key: "idem:" + k, at: at) } ?? nil
        // A signed request seen before, on any job or endpoint: a replay, unless it
        // repeats, with the same idempotency key, the call that started that run.
        if let key = item.replayKey, let seen = try liveKey(job: item.replayScope ?? job, key: "sig:" + key, at: at) {
            if let first, let firstRun = first, firstRun == seen { return .existing(runId: firstRun) }
            return .replay
        }
        if let first { return .existing(runId: first ?? "") }
        if let why = item.refusal { return .refused(why) }
        return nil
    }

    /// Inserts the key, or takes it over when it has expired; false when it is live
    /// (another request holds it, perhaps committed a moment ago by another daemon).
    private func takeKey(job: String, key: String, runId: String?, at: Int64, expiresAt: Int64) throws(StoreError) -> Bool {
        try db.execute("""
            INSERT INTO request_keys (job, key, run_id, expires_at) VALUES ($1, $2, $3, $4) \
            ON CONFLICT (job, key) DO UPDATE SET run_id = excluded.run_id, expires_at = excluded.expires_at \
            WHERE request_keys.expires_at <= $5
            """, [.text(job), .text(key), .string(runId), .integer(expiresAt), .integer(at)]).affected > 0
    }

    /// One statement: a live key refuses, any other is (re)written.
    func rememberRequest(signature: String, scope: String, at: Int64, expiresAt: Int64) throws(StoreError) -> Bool {
        try db.transaction { () throws(StoreError) in
            try takeKey(job: scope, key: "sig:" + signature, runId: nil, at: at, expiresAt: expiresAt)
        }
    }

    /// The run a live key points at (the inner nil: a key without a run), or nil when
    /// the key is unknown or expired.
    private func liveKey(job: String, key: String, at: Int64) throws(StoreError) -> String?? {
        try db.queryOne("SELECT run_id FROM request_keys WHERE job = $1 AND key = $2 AND expires_at > $3",
                        [.text(job), .text(key), .integer(at)], row: { $0.optionalString(0) })
    }

    /// Taken in one statement when free, ours, expired, or held by a finished run; the
    /// conflicting row is locked while the server decides, so of two daemons asking at
    /// once the second sees the first's holder. Else the holder is read (still locked).
    func acquireLock(name: String, runId: String, owner: String, leaseMs: Int64) throws(StoreError) -> String? {
        try db.transaction { () throws(StoreError) in
            let taken = try db.execute("""
                INSERT INTO locks (name, run_id, owner, expires_at) VALUES ($1, $2, $3, \(Self.nowMs) + $4) \
                ON CONFLICT (name) DO UPDATE SET run_id = excluded.run_id, owner = excluded.owner, expires_at = excluded.expires_at \
                WHERE locks.run_id = excluded.run_id OR locks.expires_at <= \(Self.nowMs) \
                OR NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = locks.run_id AND r.status IN ('running', 'queued'))
                """, [.text(name), .text(runId), .text(owner), .integer(leaseMs)]).affected > 0
            if taken { return nil }
            return try db.queryOne("SELECT run_id FROM locks WHERE name = $1", [.text(name)]) { $0.string(0) }
        }
    }

    func renewLocks(owner: String, leaseMs: Int64) throws(StoreError) {
        try db.transaction { () throws(StoreError) in
            _ = try db.execute("UPDATE locks SET expires_at = \(Self.nowMs) + $2 WHERE owner = $1", [.text(owner), .integer(leaseMs)])
        }
    }

    func releaseLock(name: String, runId: String) throws(StoreError) {
        try db.transaction { () throws(StoreError) in
            _ = try db.execute("DELETE FROM locks WHERE name = $1 AND run_id = $2", [.text(name), .text(runId)])
        }
    }

    func lastFires() throws(StoreError) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for (job, at) in try db.query("SELECT job, max(scheduled_at) FROM fires GROUP BY job", [], row: { ($0.string(0), $0.int64(1)) }) {
            out[job] = at
        }
        return out
    }

    func lastFire(job: String) throws(StoreError) -> Int64? {
        try db.queryOne("SELECT max(scheduled_at) FROM fires WHERE job = $1", [.text(job)], row: { $0.optionalInt64(0) }) ?? nil
    }
}
