import BatonPostgres
import BatonStore
import Foundation

/// The runs, slices and items tables over one connection: the synchronous half of
/// `PostgresRunStore`, used only on the store's serial queue. Every method that writes
/// does it in one transaction (READ COMMITTED): where SQLite relies on its single
/// writer, these rely on conditional UPDATEs (re-checked by the server against the
/// row's latest version when two sessions race), unique keys with ON CONFLICT, and row
/// locks.
final class PostgresRunTables {
    let db: PostgresSession
    /// When `createRuns` last deleted expired request keys (epoch ms).
    var lastKeySweep: Int64 = 0

    init(db: PostgresSession) { self.db = db }

    var location: String { db.location }

    /// Now, in epoch milliseconds, by the database's clock (`clock_timestamp()`, the
    /// time of the statement, not of the transaction's start): leases are set and
    /// compared with it, never with a caller's clock.
    static let nowMs = "(extract(epoch from clock_timestamp()) * 1000)::bigint"
    /// When the server started, in epoch milliseconds (leases do not run out while it is down).
    static let serverStartMs = "(extract(epoch from pg_postmaster_start_time()) * 1000)::bigint"

    /// The statuses of finished runs, as an SQL list: `prune` deletes only these.
    static let finishedStatuses = RunStatus.allCases.filter(\.isFinished).map { "'\($0.rawValue)'" }
        .joined(separator: ", ")

    func decodeRun(_ row: PostgresRow) throws(StoreError) -> RunRecord { try RunRecord(pg: row, location: location) }

    func createRun(_ new: NewRun) throws(StoreError) -> RunRecord {
        try db.transaction { () throws(StoreError) in
            do throws(StoreError) {
                try db.execute(NewRun.pgInsert, new.pgValues)
            } catch where error.kind == .conflict {
                throw StoreError(.conflict, location: location, "a run with id \(new.id) exists already", code: error.code)
            }
            if new.owner == nil, !new.status.isFinished { try notify(.waiting, run: new.id, job: new.job) }
            return try readRun(id: new.id)
        }
    }

    func run(id: String) throws(StoreError) -> RunRecord? {
        try db.queryOne("SELECT \(RunRecord.pgColumns) FROM runs WHERE id = $1", [.text(id)], row: decodeRun)
    }

    /// One statement per combination of filters; the planner picks the index
    /// (`runs_job_created`, `runs_status_created`, `runs_created`).
    func runs(job: String?, status: RunStatus?, before: (createdAt: Int64, id: String)? = nil, limit: Int) throws(StoreError) -> [RunRecord] {
        precondition(limit >= 0, "negative limit \(limit)")
        var conditions: [String] = []
        var values: [PostgresValue] = []
        if let job { values.append(.text(job)); conditions.append("job = $\(values.count)") }
        if let status { values.append(.text(status.rawValue)); conditions.append("status = $\(values.count)") }
        if let before {
            values.append(.integer(before.createdAt)); values.append(.text(before.id))
            conditions.append("(created_at, id) < ($\(values.count - 1)::bigint, $\(values.count)::text)")
        }
        values.append(.int(limit))
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT \(RunRecord.pgColumns) FROM runs\(filter) ORDER BY created_at DESC, id DESC LIMIT $\(values.count)"
        return try db.query(sql, values, row: decodeRun)
    }

    /// The newest run of each job (of `status`), one index probe per job.
    func latestRuns(jobs: [String], status: RunStatus?) throws(StoreError) -> [String: RunRecord] {
        guard !jobs.isEmpty else { return [:] }
        let statusFilter = status == nil ? "" : " AND r.status = $2"
        var values: [PostgresValue] = [.textArray(Array(Set(jobs)))]
        if let status { values.append(.text(status.rawValue)) }
        var out: [String: RunRecord] = [:]
        for run in try db.query("""
            SELECT \(Self.prefixed(RunRecord.pgColumns, "l")) FROM unnest($1::text[]) AS j(job) \
            CROSS JOIN LATERAL (SELECT * FROM runs r WHERE r.job = j.job COLLATE "C"\(statusFilter) \
            ORDER BY r.created_at DESC, r.id DESC LIMIT 1) l
            """, values, row: decodeRun) {
            out[run.job] = run
        }
        return out
    }

    func retries(of runId: String) throws(StoreError) -> [RunRecord] {
        try db.query("SELECT \(RunRecord.pgColumns) FROM runs WHERE parent_run = $1 ORDER BY created_at DESC, id DESC",
                     [.text(runId)], row: decodeRun)
    }

    /// At most `upTo` runs with `status`, counted on the `runs_status` index.
    func countRuns(status: RunStatus, upTo: Int) throws(StoreError) -> Int {
        try db.queryOne("SELECT count(*) FROM (SELECT 1 FROM runs WHERE status = $1 LIMIT $2) AS s",
                        [.text(status.rawValue), .int(max(0, upTo))]) { $0.int(0) } ?? 0
    }

    func unfinishedRuns(job: String, limit: Int) throws(StoreError) -> [RunRecord] {
        // The condition matches the partial index runs_unfinished word for word.
        try db.query("""
            SELECT \(RunRecord.pgColumns) FROM runs \
            WHERE job = $1 AND status IN ('running', 'queued') ORDER BY created_at, id LIMIT $2
            """, [.text(job), .int(limit)], row: decodeRun)
    }

    /// The oldest `limit` unfinished runs of each job, in one statement.
    func unfinishedRuns(jobs: [String], limit: Int) throws(StoreError) -> [String: [RunRecord]] {
        var out: [String: [RunRecord]] = [:]
        for run in try db.query("""
            SELECT \(Self.prefixed(RunRecord.pgColumns, "u")) FROM unnest($1::text[]) AS j(job) \
            CROSS JOIN LATERAL (SELECT * FROM runs r WHERE r.job = j.job COLLATE "C" \
            AND r.status IN ('running', 'queued') ORDER BY r.created_at, r.id LIMIT $2) u \
            ORDER BY u.job, u.created_at, u.id
            """, [.textArray(Array(Set(jobs))), .int(limit)], row: decodeRun) {
            out[run.job, default: []].append(run)
        }
        return out
    }

    func slices(runId: String) throws(StoreError) -> [SliceRecord] {
        try db.query("SELECT \(SliceRecord.pgColumns) FROM slices WHERE run_id = $1 ORDER BY number, attempt",
                     [.text(runId)]) { (row) throws(StoreError) in try SliceRecord(pg: row, location: location) }
    }

    func items(runId: String, status: String?) throws(StoreError) -> [ItemRecord] {
        if let status {
            return try db.query("SELECT \(ItemRecord.pgColumns) FROM items WHERE run_id = $1 AND status = $2 ORDER BY seq",
                                [.text(runId), .text(status)], row: ItemRecord.init(pg:))
        }
        return try db.query("SELECT \(ItemRecord.pgColumns) FROM items WHERE run_id = $1 ORDER BY seq",
                            [.text(runId)], row: ItemRecord.init(pg:))
    }

    /// Deletes the finished runs of `job` beyond the newest `keep` (by created_at, then
    /// id), items and slices first. Unfinished runs are never deleted and do not count.
    func prune(job: String, keep: Int) throws(StoreError) -> Int {
        precondition(keep >= 0, "negative keep \(keep)")
        // One statement: the three deletes see one set of doomed runs, and the foreign
        // keys are checked at its end, when their slices and items are gone.
        return try db.transaction { () throws(StoreError) in
            try db.execute("""
                WITH doomed AS (SELECT id FROM runs WHERE job = $1 AND status IN (\(Self.finishedStatuses)) \
                ORDER BY created_at DESC, id DESC OFFSET $2), \
                gone_items AS (DELETE FROM items WHERE run_id IN (SELECT id FROM doomed)), \
                gone_slices AS (DELETE FROM slices WHERE run_id IN (SELECT id FROM doomed)) \
                DELETE FROM runs WHERE id IN (SELECT id FROM doomed)
                """, [.text(job), .int(keep)]).affected
        }
    }

    // MARK: Inside a transaction

    func readRun(id: String) throws(StoreError) -> RunRecord {
        guard let run = try run(id: id) else { throw notFound(id) }
        return run
    }

    func notFound(_ runId: String) -> StoreError {
        StoreError(.notFound, location: location, "no run with id \(runId)")
    }

    /// `columns` (a comma-separated list) each prefixed with `alias.`.
    static func prefixed(_ columns: String, _ alias: String) -> String {
        columns.split(separator: ",").map { "\(alias).\($0.trimmingCharacters(in: .whitespaces))" }.joined(separator: ", ")
    }
}
