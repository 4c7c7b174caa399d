import BatonHandlerKit

/// `--list [--json]`: each epic in run order with its story count and the status of the
/// latest run that touched it. Counts, ids and codes only.
enum StoriesList {
    /// A run's rows newest first, rows never started last (a time is a `timestamptz`
    /// on PostgreSQL, so no `''` stands in for a missing one; and the two backends put
    /// NULLs at opposite ends of a descending order, so that is said explicitly).
    static let latest = "CASE WHEN COALESCE(r.completed_at, r.started_at) IS NULL THEN 1 ELSE 0 END, COALESCE(r.completed_at, r.started_at) DESC"

    static func render(_ db: any AppDatabase, json: Bool) throws(HandlerError) -> String {
        try StoriesSchema.migrate(db)
        let rows = try db.query("""
            SELECT e.project_id, e.id, e.code, e.priority,
                   (SELECT count(*) FROM epic_cards c WHERE c.epic_id = e.id),
                   (SELECT count(*) FROM stories s WHERE s.epic_id = e.id),
                   (SELECT r.status FROM story_runs r WHERE r.epic_id = e.id ORDER BY \(latest) LIMIT 1),
                   (SELECT r.run_id FROM story_runs r WHERE r.epic_id = e.id ORDER BY \(latest) LIMIT 1)
            FROM epics e ORDER BY e.project_id, CASE WHEN e.priority IS NULL THEN 1 ELSE 0 END, e.priority, e.code, e.id
            """)
        if json {
            return JSONValue.object(["epics": .array(rows.map { r in
                .object(["project": .string(r.string(0) ?? ""), "id": .string(r.string(1) ?? ""), "code": .string(r.string(2) ?? ""),
                         "priority": r.int(3).map { .number($0) } ?? .null, "cards": .number(r.int(4) ?? 0),
                         "stories": .number(r.int(5) ?? 0), "last_status": r.string(6).map { .string($0) } ?? .null,
                         "last_run": r.string(7).map { .string($0) } ?? .null])
            })]).text
        }
        var lines = ["PROJECT  EPIC  CODE  PRIORITY  CARDS  STORIES  LAST STATUS  LAST RUN"]
        for r in rows {
            lines.append([r.string(0) ?? "", r.string(1) ?? "", r.string(2) ?? "", r.string(3) ?? "-", String(r.int(4) ?? 0),
                          String(r.int(5) ?? 0), r.string(6) ?? "-", r.string(7) ?? "-"].joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }
}
