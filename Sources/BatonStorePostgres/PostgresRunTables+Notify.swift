import BatonPostgres
import BatonStore

/// What other daemons must learn at once, told with `NOTIFY` on channel `baton` inside
/// the transaction of the write (PostgreSQL delivers it at the commit, and not at all
/// on a rollback). The payload is `KIND RUN JOB` (`-` for no run): names only, never a
/// run's payload, command or error. A daemon listening (`PostgresListener`) turns it
/// back into a `StoreChange`.
extension PostgresRunTables {
    static let channel = "baton"

    enum NoticeKind: String {
        case waiting, cancel, state, ended
    }

    /// `pg_notify(3)` within the open transaction.
    func notify(_ kind: NoticeKind, run: String?, job: String) throws(StoreError) {
        try db.execute("SELECT pg_notify($1, $2)", [.text(Self.channel), .text(Self.payload(kind, run: run, job: job))])
    }

    static func payload(_ kind: NoticeKind, run: String?, job: String) -> String {
        // A job name is a schedule file's word; a run id has no space either. The payload
        // limit is 8000 bytes: a name that long is cut (the daemon then only misses a
        // wake-up; its poll finds the change).
        let text = "\(kind.rawValue) \(run ?? "-") \(job)"
        return text.utf8.count < 7900 ? text : String(decoding: text.utf8.prefix(7900), as: UTF8.self)
    }

    /// The change a payload tells, or nil for one this baton does not know (a newer
    /// baton's, or someone else's `NOTIFY baton`).
    static func change(payload: String) -> StoreChange? {
        let parts = payload.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let kind = NoticeKind(rawValue: parts[0]), !parts[2].isEmpty else { return nil }
        let run = parts[1], job = parts[2]
        switch kind {
        case .waiting: return .runWaiting(job: job, run: run)
        case .cancel: return .cancelRequested(job: job, run: run)
        case .state: return .jobState(job: job)
        case .ended: return .runEnded(job: job, run: run)
        }
    }
}
