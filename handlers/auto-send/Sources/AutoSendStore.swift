import BatonHandlerKit
import Foundation

/// auto-send's tables (HANDLERS.md) and statements. `leads` and `ai_drafts` are shared
/// with regenerate-drafts (same definitions); the auto-send columns are added with
/// defaults. Sends are guarded by `auto_send_deliveries` (one row per draft, unique),
/// through the kit's `SendLedger`.
enum AutoSendStore {
    static func migrations(_ d: AppDialect) -> [String] { [
        """
        CREATE TABLE IF NOT EXISTS leads (
            id TEXT PRIMARY KEY NOT NULL, workspace_id TEXT, sentiment_tag TEXT, email TEXT, phone TEXT
        );
        CREATE TABLE IF NOT EXISTS ai_drafts (
            id TEXT PRIMARY KEY NOT NULL, lead_id TEXT NOT NULL, channel TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending', content TEXT, regenerated_at \(d.time)
        );
        CREATE TABLE IF NOT EXISTS workspace_settings (
            workspace_id TEXT PRIMARY KEY NOT NULL, auto_send_enabled INTEGER NOT NULL DEFAULT 0,
            auto_send_revision_enabled INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS auto_send_deliveries (
            draft_id TEXT PRIMARY KEY NOT NULL, status TEXT NOT NULL, provider_message_id TEXT, error TEXT
        );
        """,
        """
        ALTER TABLE ai_drafts ADD COLUMN auto_send_confidence \(d.real);
        ALTER TABLE ai_drafts ADD COLUMN auto_send_original_confidence \(d.real);
        ALTER TABLE ai_drafts ADD COLUMN auto_send_revision_attempted_at \(d.time);
        ALTER TABLE ai_drafts ADD COLUMN auto_send_revision_confidence \(d.real);
        ALTER TABLE ai_drafts ADD COLUMN auto_send_revision_applied INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE ai_drafts ADD COLUMN auto_send_action TEXT;
        """,
    ] }

    static func open(_ env: [String: String]) throws(HandlerError) -> any AppDatabase {
        let db = try AppDB.open(environment: env)
        try db.migrate("auto-send", migrations(db.dialect))
        return db
    }

    struct Draft {
        var id: String
        var lead: String
        var workspace: String
        var channel: String
        var content: String
        var email: String?
        var phone: String?
        var revisionEnabled: Bool
        var revisionAttempted: Bool
    }

    static let select = """
        SELECT d.id, d.lead_id, l.workspace_id, d.channel, d.content, l.email, l.phone, s.auto_send_revision_enabled,
               d.auto_send_revision_attempted_at
        FROM ai_drafts d JOIN leads l ON l.id = d.lead_id JOIN workspace_settings s ON s.workspace_id = l.workspace_id
        """

    static func draft(_ r: AppRow) -> Draft {
        Draft(id: r.string(0) ?? "", lead: r.string(1) ?? "", workspace: r.string(2) ?? "", channel: r.string(3) ?? "",
              content: r.string(4) ?? "", email: r.string(5), phone: r.string(6), revisionEnabled: r.bool(7),
              revisionAttempted: r.string(8) != nil)
    }

    /// Eligible drafts after `after` (HANDLERS.md: pending, workspace auto-send on, no action yet).
    static func page(_ db: any AppDatabase, after: String?, workspace: String?, limit: Int) throws(HandlerError) -> [Draft] {
        var sql = select + " WHERE d.status = 'pending' AND s.auto_send_enabled = 1 AND d.auto_send_action IS NULL AND d.id > ?1"
        var args: [AppValue] = [.text(after ?? "")]
        if let workspace { sql += " AND l.workspace_id = ?2"; args.append(.text(workspace)) }
        return try db.query(sql + " ORDER BY d.id LIMIT \(limit)", args).map(draft)
    }

    static func byIds(_ db: any AppDatabase, _ ids: [String]) throws(HandlerError) -> [Draft] {
        var out: [Draft] = []
        for id in ids { out += try db.query(select + " WHERE d.id = ?1 AND d.status = 'pending'", [.text(id)]).map(draft) }
        return out
    }

    static func count(_ db: any AppDatabase, workspace: String?) throws(HandlerError) -> Int {
        var sql = "SELECT count(*) FROM (" + select + " WHERE d.status = 'pending' AND s.auto_send_enabled = 1 AND d.auto_send_action IS NULL"
        var args: [AppValue] = []
        if let workspace { sql += " AND l.workspace_id = ?1"; args.append(.text(workspace)) }
        return try db.queryOne(sql + ") x", args)?.int(0) ?? 0
    }

    /// The draft's single revision attempt, claimed durably and conditionally: true only
    /// for the one write that stamped it. Any failure to write is the caller's to treat
    /// as "do not revise" (fail closed).
    static func claimRevision(_ db: any AppDatabase, _ id: String, nowMs: Int64) throws(HandlerError) -> Bool {
        try db.execute("UPDATE ai_drafts SET auto_send_revision_attempted_at = ?2 WHERE id = ?1 AND auto_send_revision_attempted_at IS NULL",
                       [.text(id), .text(AppDB.timestamp(nowMs))]) == 1
    }

    static func delivery(_ db: any AppDatabase, _ id: String) throws(HandlerError) -> String? {
        try db.queryOne("SELECT status FROM auto_send_deliveries WHERE draft_id = ?1", [.text(id)])?.string(0)
    }
}
