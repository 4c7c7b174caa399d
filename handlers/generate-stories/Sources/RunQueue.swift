import BatonHandlerKit

/// A run's epics in `story_runs`: queued once in a fixed order (`position`), walked with
/// a key-set cursor (the last position finished), and the per-project lock that allows
/// one active run per project.
///
/// The lock: `story_run_locks(project_id, run_id, lease_until)`, taken atomically with
/// `INSERT … ON CONFLICT DO UPDATE … WHERE` (ours already, or the holder's lease is past),
/// renewed every slice and every epic, extended over a pause the run asks for, and
/// released when the run has no pending epic left in the project. A run is "live" while
/// its lease runs: a crashed or cancelled run blocks its projects for at most `lease`
/// (default 10m) after its last slice, and `baton resume` re-takes the lock if it is free.
struct RunQueue {
    let db: any AppDatabase
    let runId: String

    struct Row {
        var epicId: String, projectId: String?, position: Int, status: String, storiesCreated: Int, error: String?
    }

    static let open = "('pending', 'generating')"

    func isQueued() throws(HandlerError) -> Bool {
        try db.queryOne("SELECT 1 FROM story_runs WHERE run_id = ?1 LIMIT 1", [.text(runId)]) != nil
    }

    func total() throws(HandlerError) -> Int {
        try db.queryOne("SELECT count(*) FROM story_runs WHERE run_id = ?1", [.text(runId)])?.int(0) ?? 0
    }

    /// The first row after `position`, in the run's order.
    func next(after position: Int) throws(HandlerError) -> Row? {
        try db.queryOne("""
            SELECT epic_id, project_id, position, status, stories_created, error FROM story_runs
            WHERE run_id = ?1 AND position > ?2 ORDER BY position, epic_id LIMIT 1
            """, [.text(runId), .int(position)]).map { r in
            Row(epicId: r.string(0) ?? "", projectId: r.string(1), position: r.int(2) ?? 0, status: r.string(3) ?? "",
                storiesCreated: r.int(4) ?? 0, error: r.string(5))
        }
    }

    func hasOpenRows(after position: Int) throws(HandlerError) -> Bool {
        try db.queryOne("SELECT 1 FROM story_runs WHERE run_id = ?1 AND position > ?2 AND status IN \(Self.open) LIMIT 1",
                        [.text(runId), .int(position)]) != nil
    }

    /// Queues the run's epics in one transaction, idempotently. Projects in id order;
    /// within one, priority ascending (numbers; NULL last), then code, then id. Requested
    /// ids or codes that name no epic of the target projects are queued `failed` first.
    /// - Throws: for an unknown `project`, or from `APP_DB`.
    func enqueue(project: String?, requested: [String]?, now: String) throws(HandlerError) {
        if let project, try db.queryOne("SELECT 1 FROM projects WHERE id = ?1", [.text(project)]) == nil {
            throw HandlerError("project '\(project)' is not in APP_DB's projects table",
                               hint: "give a project id (SELECT id FROM projects), or leave project unset for every project")
        }
        let rows = try db.query("""
            SELECT e.id, e.project_id, e.code FROM epics e JOIN projects p ON p.id = e.project_id
            WHERE (CAST(?1 AS TEXT) IS NULL OR e.project_id = ?1)
            ORDER BY e.project_id, CASE WHEN e.priority IS NULL THEN 1 ELSE 0 END, e.priority, e.code, e.id
            """, [.string(project)])
        var chosen: [(id: String, project: String)] = []
        var unknown: [String] = []
        if let requested {
            var wanted = Set<String>()
            for name in requested {
                let hits = rows.filter { $0.string(0) == name || $0.string(2) == name }
                if hits.isEmpty { unknown.append(name) }
                for h in hits { wanted.insert(h.string(0) ?? "") }
            }
            chosen = rows.filter { wanted.contains($0.string(0) ?? "") }.map { ($0.string(0) ?? "", $0.string(1) ?? "") }
        } else {
            chosen = rows.map { ($0.string(0) ?? "", $0.string(1) ?? "") }
        }
        let scope = project.map { "project \($0)" } ?? "any project"
        try db.transaction { () throws(HandlerError) in
            var position = 0
            for name in unknown where !chosen.contains(where: { $0.id == name }) {
                position += 1
                try db.execute("""
                    INSERT INTO story_runs (run_id, epic_id, status, error, completed_at, project_id, position)
                    VALUES (?1, ?2, 'failed', ?3, ?4, ?5, ?6) ON CONFLICT (run_id, epic_id) DO NOTHING
                    """, [.text(runId), .text(name), .text("no epic with id or code '\(name)' in \(scope)"), .text(now),
                          .string(project), .int(position)])
            }
            for e in chosen {
                position += 1
                try db.execute("""
                    INSERT INTO story_runs (run_id, epic_id, status, project_id, position)
                    VALUES (?1, ?2, 'pending', ?3, ?4) ON CONFLICT (run_id, epic_id) DO NOTHING
                    """, [.text(runId), .text(e.id), .text(e.project), .int(position)])
            }
        }
    }

    /// Takes or renews the lock of every project this run still has open epics in after
    /// `position`. A project held by another live run: its open rows fail, naming that run.
    /// Returns the refusals (project, holder) for the log.
    func claimProjects(after position: Int, leaseUntil: String, now: String) throws(HandlerError) -> [(String, String)] {
        let projects = try db.query("""
            SELECT DISTINCT project_id FROM story_runs
            WHERE run_id = ?1 AND position > ?2 AND status IN \(Self.open) AND project_id IS NOT NULL ORDER BY project_id
            """, [.text(runId), .int(position)]).compactMap { $0.string(0) }
        var refused: [(String, String)] = []
        for project in projects {
            let won = try db.execute("""
                INSERT INTO story_run_locks (project_id, run_id, lease_until) VALUES (?1, ?2, ?3)
                ON CONFLICT (project_id) DO UPDATE SET run_id = excluded.run_id, lease_until = excluded.lease_until
                WHERE story_run_locks.run_id = excluded.run_id OR story_run_locks.lease_until < ?4
                """, [.text(project), .text(runId), .text(leaseUntil), .text(now)])
            guard won == 0 else { continue }
            let holder = try db.queryOne("SELECT run_id, lease_until FROM story_run_locks WHERE project_id = ?1", [.text(project)])
            let other = holder?.string(0) ?? "another run"
            let error = "project \(project) has an active run \(other) (lease until \(holder?.string(1) ?? "?")); "
                + "wait for it to end, or cancel it, then baton retry this run"
            try db.execute("""
                UPDATE story_runs SET status = 'failed', error = ?3, completed_at = ?4
                WHERE run_id = ?1 AND project_id = ?2 AND status IN \(Self.open)
                """, [.text(runId), .text(project), .text(error), .text(now)])
            refused.append((project, other))
        }
        return refused
    }

    /// Extends this run's lease on `project` (after each epic).
    func renew(project: String, leaseUntil: String) throws(HandlerError) {
        try db.execute("UPDATE story_run_locks SET lease_until = ?3 WHERE project_id = ?1 AND run_id = ?2",
                       [.text(project), .text(runId), .text(leaseUntil)])
    }

    /// Extends every lease of this run (a pause the run asks for must not lose them).
    func renewAll(leaseUntil: String) throws(HandlerError) {
        try db.execute("UPDATE story_run_locks SET lease_until = ?2 WHERE run_id = ?1", [.text(runId), .text(leaseUntil)])
    }

    /// Releases the projects where this run has nothing open any more.
    func releaseFinished() throws(HandlerError) {
        try db.execute("""
            DELETE FROM story_run_locks WHERE run_id = ?1 AND project_id NOT IN (
                SELECT project_id FROM story_runs WHERE run_id = ?1 AND status IN \(Self.open) AND project_id IS NOT NULL)
            """, [.text(runId)])
    }

    /// Moves the row to `status` (only from pending/generating: a finished row stays).
    func set(_ epicId: String, status: String, error: String? = nil, now: String) throws(HandlerError) {
        let final = status != "pending" && status != "generating"
        try db.execute("""
            UPDATE story_runs SET status = ?3, error = ?4,
                started_at = CASE WHEN ?3 = 'generating' THEN ?5 ELSE started_at END,
                completed_at = CASE WHEN ?6 = 1 THEN ?5 ELSE completed_at END
            WHERE run_id = ?1 AND epic_id = ?2 AND status IN \(Self.open)
            """, [.text(runId), .text(epicId), .text(status), .string(error), .text(now), .bool(final)])
    }
}

extension RunQueue {
    /// Rows of the run no longer pending or generating.
    func finishedCount() throws(HandlerError) -> Int {
        try db.queryOne("SELECT count(*) FROM story_runs WHERE run_id = ?1 AND status NOT IN \(Self.open)", [.text(runId)])?.int(0) ?? 0
    }
}
