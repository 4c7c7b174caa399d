import BatonHandlerKit

/// The `reports` table (HANDLERS.md) and what the handler reads of it.
enum ReportsTable {
    /// Migrations of component `regenerate-reports`: append only.
    static let migrations = [
        """
        CREATE TABLE IF NOT EXISTS reports (
            id TEXT PRIMARY KEY NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'active',
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
            last_regenerated_at TEXT,
            content TEXT
        );
        CREATE INDEX IF NOT EXISTS reports_due ON reports(last_regenerated_at, id) WHERE status = 'active';
        """,
    ]

    struct Report {
        var id: String
        var title: String
        var lastRegeneratedAt: String?
        var createdAt: String
        var status: String
    }

    static let columns = "id, title, last_regenerated_at, created_at, status"

    static func report(_ row: AppRow) -> Report {
        Report(id: row.string(0) ?? "", title: row.string(1) ?? "", lastRegeneratedAt: row.string(2),
               createdAt: row.string(3) ?? "", status: row.string(4) ?? "")
    }

    /// The order reports are taken in, as one sortable key: never regenerated first,
    /// then oldest stamp first, then id. A key-set cursor holds the last key handled.
    static let orderKey = "coalesce(last_regenerated_at, '') || ' ' || id"

    static func key(_ r: Report) -> String { (r.lastRegeneratedAt ?? "") + " " + r.id }

    /// Active reports due at `cutoff` (stamp null or at/before it), after `cursor` in
    /// the order above, at most `limit`.
    static func due(_ db: any AppDatabase, cutoff: String, after cursor: String?, limit: Int) throws(HandlerError) -> [Report] {
        try db.query("""
            SELECT \(columns) FROM reports
            WHERE status = 'active' AND (last_regenerated_at IS NULL OR last_regenerated_at <= ?1)
              AND \(orderKey) > ?2
            ORDER BY \(orderKey) LIMIT ?3
            """, [.text(cutoff), .text(cursor ?? ""), .int(limit)]).map(report)
    }

    static func count(_ db: any AppDatabase, cutoff: String, after cursor: String?) throws(HandlerError) -> Int {
        try db.queryOne("""
            SELECT count(*) FROM reports
            WHERE status = 'active' AND (last_regenerated_at IS NULL OR last_regenerated_at <= ?1) AND \(orderKey) > ?2
            """, [.text(cutoff), .text(cursor ?? "")])?.int(0) ?? 0
    }

    static func byIds(_ db: any AppDatabase, _ ids: [String]) throws(HandlerError) -> [Report] {
        var found: [Report] = []
        for id in ids {
            if let row = try db.queryOne("SELECT \(columns) FROM reports WHERE id = ?1", [.text(id)]) { found.append(report(row)) }
        }
        return found
    }
}
