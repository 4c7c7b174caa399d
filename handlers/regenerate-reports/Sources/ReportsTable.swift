import BatonHandlerKit

/// The `reports` table (HANDLERS.md) and what the handler reads of it.
enum ReportsTable {
    /// Migrations of component `regenerate-reports`: append only.
    static func migrations(_ d: AppDialect) -> [String] { [
        """
        CREATE TABLE IF NOT EXISTS reports (
            id TEXT PRIMARY KEY NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'active',
            created_at \(d.time) NOT NULL DEFAULT \(d.now),
            last_regenerated_at \(d.time),
            content TEXT
        );
        CREATE INDEX IF NOT EXISTS reports_due ON reports(last_regenerated_at, id) WHERE status = 'active';
        """,
    ] }

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

    /// The order reports are taken in: never regenerated first, then oldest stamp
    /// first, then id. Compared column by column, not as one text: a stamp is a
    /// `timestamptz` on PostgreSQL (HANDLERS.md), where `coalesce(stamp, '') || id`
    /// is no time at all.
    static let order = "CASE WHEN last_regenerated_at IS NULL THEN 0 ELSE 1 END, last_regenerated_at, id"

    /// The cursor: the last report handled as `STAMP ID` (`STAMP` empty when it had none).
    static func key(_ r: Report) -> String { (r.lastRegeneratedAt ?? "") + " " + r.id }

    /// The reports after `cursor` in `order`, as a condition whose values are `?first`
    /// and `?first+1` (none, and always true, before the first report).
    static func after(_ cursor: String?, first n: Int) -> (sql: String, args: [AppValue]) {
        guard let cursor, let space = cursor.firstIndex(of: " ") else { return ("1 = 1", []) }
        let stamp = String(cursor[..<space]), id = String(cursor[cursor.index(after: space)...])
        if stamp.isEmpty {
            return ("((last_regenerated_at IS NULL AND id > ?\(n)) OR last_regenerated_at IS NOT NULL)", [.text(id)])
        }
        return ("(last_regenerated_at > ?\(n) OR (last_regenerated_at = ?\(n) AND id > ?\(n + 1)))", [.text(stamp), .text(id)])
    }

    /// Active reports due at `cutoff` (stamp null or at/before it), after `cursor` in
    /// the order above, at most `limit`.
    static func due(_ db: any AppDatabase, cutoff: String, after cursor: String?, limit: Int) throws(HandlerError) -> [Report] {
        let (later, args) = after(cursor, first: 3)
        return try db.query("""
            SELECT \(columns) FROM reports
            WHERE status = 'active' AND (last_regenerated_at IS NULL OR last_regenerated_at <= ?1) AND \(later)
            ORDER BY \(order) LIMIT ?2
            """, [.text(cutoff), .int(limit)] + args).map(report)
    }

    static func count(_ db: any AppDatabase, cutoff: String, after cursor: String?) throws(HandlerError) -> Int {
        let (later, args) = after(cursor, first: 2)
        return try db.queryOne("""
            SELECT count(*) FROM reports
            WHERE status = 'active' AND (last_regenerated_at IS NULL OR last_regenerated_at <= ?1) AND \(later)
            """, [.text(cutoff)] + args)?.int(0) ?? 0
    }

    static func byIds(_ db: any AppDatabase, _ ids: [String]) throws(HandlerError) -> [Report] {
        var found: [Report] = []
        for id in ids {
            if let row = try db.queryOne("SELECT \(columns) FROM reports WHERE id = ?1", [.text(id)]) { found.append(report(row)) }
        }
        return found
    }
}
