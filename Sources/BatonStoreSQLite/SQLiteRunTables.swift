import BatonSQLite
import BatonStore

/// The runs, slices and items tables over one connection: the synchronous half of
/// `SQLiteRunStore`, used only on the store's serial queue. Every method that writes
/// does it in one `BEGIN IMMEDIATE` transaction.
final class SQLiteRunTables {
    let db: StoreConnection
    /// The durability every other commit gets (`PRAGMA synchronous`).
    let synchronous: SQLiteRunStore.Synchronous
    /// When `createRuns` last deleted expired request keys (epoch ms).
    var lastKeySweep: Int64 = 0

    init(db: StoreConnection, synchronous: SQLiteRunStore.Synchronous = .full) {
        self.db = db
        self.synchronous = synchronous
    }

    /// The statuses of finished runs, as an SQL list: `prune` deletes only these.
    static let finishedStatuses = RunStatus.allCases.filter(\.isFinished).map { "'\($0.rawValue)'" }
        .joined(separator: ", ")

    func createRun(_ new: NewRun) throws(StoreError) -> RunRecord {
        try db.transaction { () throws(StoreError) in
            do throws(StoreError) {
                try db.execute(NewRun.sqliteInsert, new.sqliteValues)
            } catch where error.kind == .conflict {
                throw StoreError(.conflict, location: db.path, "a run with id \(new.id) exists already",
                                 code: error.code)
            }
            return try readRun(id: new.id)
        }
    }

    func run(id: String) throws(StoreError) -> RunRecord? {
        try db.queryOne("SELECT \(RunRecord.sqliteColumns) FROM runs WHERE id = ?1", [.text(id)], row: RunRecord.init)
    }

    /// One statement per combination of filters, so each can use its index
    /// (`runs_job_created` for a job, `runs_status` for a status).
    func runs(job: String?, status: RunStatus?, before: (createdAt: Int64, id: String)? = nil, limit: Int) throws(StoreError) -> [RunRecord] {
        precondition(limit >= 0, "negative limit \(limit)")
        var conditions: [String] = []
        var values: [SQLiteValue] = []
        if let job { values.append(.text(job)); conditions.append("job = ?\(values.count)") }
        // With a job, `+status` keeps SQLite on the job's index: walking the status index
        // instead would pass every other job's runs of that status first.
        if let status { values.append(.text(status.rawValue)); conditions.append((job == nil ? "" : "+") + "status = ?\(values.count)") }
        if let before {
            // A row value compare: SQLite walks the (…, created_at, id) index backwards from it.
            values.append(.integer(before.createdAt)); values.append(.text(before.id))
            conditions.append("(created_at, id) < (?\(values.count - 1), ?\(values.count))")
        }
        values.append(.int(limit))
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT \(RunRecord.sqliteColumns) FROM runs\(filter) ORDER BY created_at DESC, id DESC LIMIT ?\(values.count)"
        return try db.query(sql, values, row: RunRecord.init)
    }

    func retries(of runId: String) throws(StoreError) -> [RunRecord] {
        try db.query("SELECT \(RunRecord.sqliteColumns) FROM runs WHERE parent_run = ?1 ORDER BY created_at DESC, id DESC",
                     [.text(runId)], row: RunRecord.init)
    }

    /// At most `upTo` runs with `status`, counted on the `runs_status` index.
    func countRuns(status: RunStatus, upTo: Int) throws(StoreError) -> Int {
        try db.queryOne("SELECT count(*) FROM (SELECT 1 FROM runs WHERE status = ?1 LIMIT ?2)",
                        [.text(status.rawValue), .integer(Int64(max(0, upTo)))]) { $0.int(0) } ?? 0
    }

    /// Runs `body` in a transaction committed without a flush of its own (WAL with
    /// synchronous=NORMAL): for ownership and start records, which a crash of baton
    /// never loses (the operating system has them) and the next full commit flushes.
    /// A choice inside this backend: callers see one operation, one transaction.
    func relaxed<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        let relax = synchronous == .full
        // Cached statements (`execute`), not `sqlite3_exec`, which compiles each time.
        if relax { try db.execute("PRAGMA synchronous = NORMAL") }
        defer { if relax { try? db.execute("PRAGMA synchronous = \(synchronous.rawValue)") } }
        return try db.transaction(body)
    }

    func recordFires(_ fires: [FireRecord], at: Int64) throws(StoreError) -> [Bool] {
        try db.transaction { () throws(StoreError) in
            var out: [Bool] = []
            for f in fires {
                try db.execute("""
                    INSERT INTO fires (job, scheduled_at, kind, run_id, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                    ON CONFLICT (job, scheduled_at) DO NOTHING
                    """, [.text(f.job), .integer(f.scheduledAt), .text(f.kind.rawValue), .string(f.run?.id), .integer(at)])
                let recorded = db.changes > 0
                if recorded, let run = f.run { try db.execute(NewRun.sqliteInsert, run.sqliteValues) }
                out.append(recorded)
            }
            return out
        }
    }

    func acquireLock(name: String, runId: String, owner: String, leaseMs: Int64) throws(StoreError) -> String? {
        try relaxed { () throws(StoreError) in
            // A holder that is another run, unfinished, and not expired keeps it.
            let holder = try db.queryOne("""
                SELECT l.run_id FROM locks l JOIN runs r ON r.id = l.run_id \
                WHERE l.name = ?1 AND l.run_id != ?2 AND l.expires_at > \(Self.nowMs) AND r.status IN ('running', 'queued')
                """, [.text(name), .text(runId)], row: { $0.string(0) })
            if let holder { return holder }
            try db.execute("""
                INSERT INTO locks (name, run_id, owner, expires_at) VALUES (?1, ?2, ?3, \(Self.nowMs) + ?4) \
                ON CONFLICT (name) DO UPDATE SET run_id = excluded.run_id, owner = excluded.owner, expires_at = excluded.expires_at
                """, [.text(name), .text(runId), .text(owner), .integer(leaseMs)])
            return nil
        }
    }

    func renewLocks(owner: String, leaseMs: Int64) throws(StoreError) {
        try relaxed { () throws(StoreError) in
            try db.execute("UPDATE locks SET expires_at = \(Self.nowMs) + ?2 WHERE owner = ?1", [.text(owner), .integer(leaseMs)])
        }
    }

    func releaseLock(name: String, runId: String) throws(StoreError) {
        try relaxed { () throws(StoreError) in
            try db.execute("DELETE FROM locks WHERE name = ?1 AND run_id = ?2", [.text(name), .text(runId)])
        }
    }

    func unfinishedRuns(job: String, limit: Int) throws(StoreError) -> [RunRecord] {
        // The condition matches the partial index runs_unfinished word for word.
        try db.query("""
            SELECT \(RunRecord.sqliteColumns) FROM runs INDEXED BY runs_unfinished \
            WHERE job = ?1 AND status IN ('running', 'queued') ORDER BY created_at, id LIMIT ?2
            """, [.text(job), .int(limit)], row: RunRecord.init)
    }

    func createRuns(_ batch: [RunIntake], at: Int64) throws(StoreError) -> [IntakeOutcome] {
        try db.transaction { () throws(StoreError) in
            if at - lastKeySweep > 60_000 {
                try db.execute("DELETE FROM request_keys WHERE expires_at <= ?1", [.integer(at)])
                lastKeySweep = at
            }
            var out: [IntakeOutcome] = []
            for item in batch {
                let job = item.run.job
                let first = try item.idempotencyKey.map { k throws(StoreError) in try liveKey(job: job, key: "idem:" + k, at: at) } ?? nil
                // A signed request seen before, on any job or endpoint: a replay, unless it
                // repeats, with the same idempotency key, the call that started that run.
                let scope = item.replayScope ?? job
                if let key = item.replayKey, let seen = try liveKey(job: scope, key: "sig:" + key, at: at) {
                    if let first, let firstRun = first, firstRun == seen { out.append(.existing(runId: firstRun)) } else { out.append(.replay) }
                    continue
                }
                if let first {
                    out.append(.existing(runId: first ?? ""))
                    continue
                }
                if let why = item.refusal {
                    out.append(.refused(why))
                    continue
                }
                do throws(StoreError) {
                    try db.execute(NewRun.sqliteInsert, item.run.sqliteValues)
                } catch where error.kind == .conflict {
                    throw StoreError(.conflict, location: db.path, "a run with id \(item.run.id) exists already", code: error.code)
                }
                let run = RunRecord(item.run)
                for (scope, key, expires) in [(job, item.idempotencyKey.map { "idem:" + $0 }, item.idempotencyExpiresAt),
                                              (scope, item.replayKey.map { "sig:" + $0 }, item.replayExpiresAt)] {
                    guard let key else { continue }
                    try rememberKey(job: scope, key: key, runId: run.id, expiresAt: expires)
                }
                out.append(.created(run))
            }
            return out
        }
    }

    func rememberKey(job: String, key: String, runId: String?, expiresAt: Int64) throws(StoreError) {
        try db.execute("""
            INSERT INTO request_keys (job, key, run_id, expires_at) VALUES (?1, ?2, ?3, ?4) \
            ON CONFLICT (job, key) DO UPDATE SET run_id = excluded.run_id, expires_at = excluded.expires_at
            """, [.text(job), .text(key), .string(runId), .integer(expiresAt)])
    }

    func rememberRequest(signature: String, scope: String, at: Int64, expiresAt: Int64) throws(StoreError) -> Bool {
        try db.transaction { () throws(StoreError) in
            if try liveKey(job: scope, key: "sig:" + signature, at: at) != nil { return false }
            try rememberKey(job: scope, key: "sig:" + signature, runId: nil, expiresAt: expiresAt)
            return true
        }
    }

    /// The run a live key points at (the inner nil: a key without a run), or nil when
    /// the key is unknown or expired.
    private func liveKey(job: String, key: String, at: Int64) throws(StoreError) -> String?? {
        try db.queryOne("SELECT run_id FROM request_keys WHERE job = ?1 AND key = ?2 AND expires_at > ?3",
                        [.text(job), .text(key), .integer(at)], row: { $0.optionalString(0) })
    }

    func lastFires() throws(StoreError) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for (job, at) in try db.query("SELECT job, max(scheduled_at) FROM fires GROUP BY job", [], row: { ($0.string(0), $0.int64(1)) }) {
            out[job] = at
        }
        return out
    }

    func lastFire(job: String) throws(StoreError) -> Int64? {
        try db.queryOne("SELECT max(scheduled_at) FROM fires WHERE job = ?1", [.text(job)], row: { $0.optionalInt64(0) }) ?? nil
    }

    func setPaused(job: String, paused: Bool, at: Int64) throws(StoreError) {
        try db.transaction { () throws(StoreError) in
            try db.execute("""
                INSERT INTO job_state (job, paused, changed_at) VALUES (?1, ?2, ?3) \
                ON CONFLICT (job) DO UPDATE SET paused = excluded.paused, changed_at = excluded.changed_at
                """, [.text(job), .int(paused ? 1 : 0), .integer(at)])
        }
    }

    func jobStates() throws(StoreError) -> [String: JobState] {
        var out: [String: JobState] = [:]
        for (job, state) in try db.query("SELECT job, paused, changed_at FROM job_state", [], row: { row in
            (row.string(0), JobState(paused: row.bool(1), changedAt: row.int64(2)))
        }) {
            out[job] = state
        }
        return out
    }

    /// Deletes the finished runs of `job` beyond the newest `keep` (by created_at, then
    /// id), items and slices first. Unfinished runs are never deleted and do not count.
    func prune(job: String, keep: Int) throws(StoreError) -> Int {
        precondition(keep >= 0, "negative keep \(keep)")
        let doomed = """
            SELECT id FROM runs WHERE job = ?1 AND status IN (\(Self.finishedStatuses)) \
            ORDER BY created_at DESC, id DESC LIMIT -1 OFFSET ?2
            """
        let values: [SQLiteValue] = [.text(job), .int(keep)]
        return try relaxed { () throws(StoreError) in
            try db.execute("DELETE FROM items WHERE run_id IN (\(doomed))", values)
            try db.execute("DELETE FROM slices WHERE run_id IN (\(doomed))", values)
            try db.execute("DELETE FROM runs WHERE id IN (\(doomed))", values)
            return db.changes
        }
    }

    // MARK: Inside a transaction

    func readRun(id: String) throws(StoreError) -> RunRecord {
        guard let run = try run(id: id) else { throw notFound(id) }
        return run
    }

    func notFound(_ runId: String) -> StoreError {
        StoreError(.notFound, location: db.path, "no run with id \(runId)")
    }
}
