import BatonPostgres
import BatonStore

/// The daemons' rows (`RunStore.heartbeat`): each daemon refreshes its own, stamped
/// with the database's clock.
extension PostgresRunTables {
    /// Rows not refreshed for this long are deleted (a daemon that died without
    /// stopping cleanly).
    static let forgetDaemonsAfterMs: Int64 = 86_400_000

    func heartbeat(_ daemon: DaemonRecord, liveMs: Int64) throws(StoreError) -> [DaemonRecord] {
        try db.transaction { () throws(StoreError) in
            try db.execute("""
                INSERT INTO daemons (owner, host, started_at, seen_at, schedules, jobs) \
                VALUES ($1, $2, $3, \(Self.nowMs), $4, $5) \
                ON CONFLICT (owner) DO UPDATE SET seen_at = excluded.seen_at, schedules = excluded.schedules, jobs = excluded.jobs
                """, [.text(daemon.owner), .text(daemon.host), .integer(daemon.startedAt), .text(daemon.schedules), .text(daemon.jobsText)])
            try db.execute("DELETE FROM daemons WHERE seen_at < \(Self.nowMs) - $1", [.integer(Self.forgetDaemonsAfterMs)])
            return try db.query("""
                SELECT owner, host, started_at, seen_at, schedules, jobs FROM daemons \
                WHERE seen_at >= \(Self.nowMs) - $1 ORDER BY started_at, owner
                """, [.integer(liveMs)]) { row in
                DaemonRecord(owner: row.string(0), host: row.string(1), startedAt: row.int64(2), seenAt: row.int64(3),
                             schedules: row.string(4), jobs: DaemonRecord.jobs(fromText: row.string(5)))
            }
        }
    }

    func forgetDaemon(owner: String) throws(StoreError) {
        try db.execute("DELETE FROM daemons WHERE owner = $1", [.text(owner)])
    }
}
