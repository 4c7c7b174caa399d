import BatonSQLite
import BatonStore

/// The scheduler's read-only questions (`RunStore`'s scheduling queries), each answered
/// from an index: never by reading the runs table.
extension SQLiteRunStore {
    public func jobsWithUnfinishedRuns() async throws(StoreError) -> [String] {
        try await perform { tables throws(StoreError) in
            // A skip scan of the partial index runs_unfinished: the next job name after the
            // last one found, one probe per job, so a backlog of 100,000 queued runs of
            // one job costs one step, not 100,000 (SELECT DISTINCT would walk them all).
            try tables.db.query("""
                WITH RECURSIVE names(job) AS (
                    SELECT (SELECT job FROM runs INDEXED BY runs_unfinished
                            WHERE status IN ('running', 'queued') ORDER BY job LIMIT 1)
                    UNION ALL
                    SELECT (SELECT job FROM runs INDEXED BY runs_unfinished
                            WHERE status IN ('running', 'queued') AND job > names.job ORDER BY job LIMIT 1)
                    FROM names WHERE names.job IS NOT NULL
                ) SELECT job FROM names WHERE job IS NOT NULL
                """, [], row: { $0.string(0) })
        }
    }

    public func unfinishedRuns(jobs: [String], limit: Int) async throws(StoreError) -> [String: [RunRecord]] {
        guard !jobs.isEmpty else { return [:] }
        return try await perform { tables throws(StoreError) in
            var out: [String: [RunRecord]] = [:]
            for job in Set(jobs) {
                let runs = try tables.unfinishedRuns(job: job, limit: limit)
                if !runs.isEmpty { out[job] = runs }
            }
            return out
        }
    }

    public func jobStates(after version: Int64) async throws(StoreError) -> (states: [String: JobState], version: Int64) {
        try await perform { tables throws(StoreError) in
            var states: [String: JobState] = [:]
            var latest = version
            for (job, state, v) in try tables.db.query("""
                SELECT job, paused, changed_at, version FROM job_state INDEXED BY job_state_version WHERE version > ?1
                """, [.integer(version)], row: { row in
                (row.string(0), JobState(paused: row.bool(1), changedAt: row.int64(2)), row.int64(3))
            }) {
                states[job] = state
                latest = max(latest, v)
            }
            return (states, latest)
        }
    }
}
