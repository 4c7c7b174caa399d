import BatonPostgres
import BatonStore

/// Job state (pause) and the scheduler's read-only questions, each answered from an
/// index.
extension PostgresRunTables {
    /// A pause or unpause, with the next version. The versions must grow in commit
    /// order (a reader asks for what changed after the last one it saw), which a
    /// sequence does not give: a transaction-scoped advisory lock orders the writers,
    /// and each reads the latest version after taking it (READ COMMITTED: a new
    /// snapshot per statement, so the previous holder's commit is seen).
    func setPaused(job: String, paused: Bool, at: Int64) throws(StoreError) {
        try db.transaction { () throws(StoreError) in
            try db.execute("SELECT pg_advisory_xact_lock($1)", [.integer(PostgresSchema.jobStateLock)])
            try db.execute("""
                INSERT INTO job_state (job, paused, changed_at, version) \
                VALUES ($1, $2, $3, (SELECT coalesce(max(version), 0) + 1 FROM job_state)) \
                ON CONFLICT (job) DO UPDATE SET paused = excluded.paused, changed_at = excluded.changed_at, \
                version = excluded.version
                """, [.text(job), .bool(paused), .integer(at)])
            try notify(.state, run: nil, job: job)
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

    func jobStates(after version: Int64) throws(StoreError) -> (states: [String: JobState], version: Int64) {
        var states: [String: JobState] = [:]
        var latest = version
        for (job, state, v) in try db.query("SELECT job, paused, changed_at, version FROM job_state WHERE version > $1",
                                            [.integer(version)], row: { row in
            (row.string(0), JobState(paused: row.bool(1), changedAt: row.int64(2)), row.int64(3))
        }) {
            states[job] = state
            latest = max(latest, v)
        }
        return (states, latest)
    }

    /// A skip scan of the partial index runs_unfinished: the next job name after the
    /// last one found, one probe per job, so a backlog of 100,000 queued runs of one job
    /// costs one step (SELECT DISTINCT would walk them all).
    func jobsWithUnfinishedRuns() throws(StoreError) -> [String] {
        try db.query("""
            WITH RECURSIVE names(job) AS (
                SELECT (SELECT min(job) FROM runs WHERE status IN ('running', 'queued'))
                UNION ALL
                SELECT (SELECT min(job) FROM runs WHERE status IN ('running', 'queued') AND job > names.job)
                FROM names WHERE names.job IS NOT NULL
            ) SELECT job FROM names WHERE job IS NOT NULL
            """, [], row: { $0.string(0) })
    }
}
