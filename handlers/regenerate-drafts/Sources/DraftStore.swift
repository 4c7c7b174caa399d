import BatonHandlerKit
import Foundation

/// Where a lead stands in the run's order: (workspace, channel, lead id). Pages are
/// read after a key (key-set), so leads deleted or added between slices never shift
/// what comes next: none is skipped, none is done twice.
public struct DraftKey: Sendable, Hashable, Comparable {
    public var workspace: String
    public var channel: String
    public var lead: String

    public static func < (a: DraftKey, b: DraftKey) -> Bool {
        (a.workspace, a.channel, a.lead) < (b.workspace, b.channel, b.lead)
    }

    /// The id in `items` (what `baton retry` hands back): `email:lead_0042`.
    public var itemId: String { "\(channel):\(lead)" }

    var json: JSONValue { .array([.string(workspace), .string(channel), .string(lead)]) }

    init(workspace: String, channel: String, lead: String) { self.workspace = workspace; self.channel = channel; self.lead = lead }

    init?(_ json: JSONValue?) {
        guard case let .array(a)? = json, a.count == 3, let w = a[0].string, let c = a[1].string, let l = a[2].string else { return nil }
        self.init(workspace: w, channel: c, lead: l)
    }
}

/// A lead to regenerate a draft for.
struct DraftItem {
    var key: DraftKey
    var tag: String
}

/// What the handler selects: which workspace and channels, and whether only leads
/// with a pending draft (the default) or every lead with an address on the channel.
struct DraftScope {
    var workspace: String?
    var channels: [Channel]
    var onlyPending: Bool

    /// The candidates as rows (ws, ch, lead, tag, email), each lead once per channel.
    func source(_ args: inout SQLArgs) -> String {
        if onlyPending {
            return "SELECT DISTINCT COALESCE(l.workspace_id, '') AS ws, d.channel AS ch, l.id AS lead, l.sentiment_tag AS tag, "
                + "l.email AS email FROM leads l JOIN ai_drafts d ON d.lead_id = l.id WHERE d.status = 'pending'"
        }
        // Validated: exactly one channel, named by the enum, so a literal is safe.
        let channel = channels[0]
        let address = switch channel {
        case .sms: " WHERE COALESCE(l.phone, '') <> ''"
        case .email: " WHERE COALESCE(l.email, '') <> ''"
        case .linkedin: ""
        }
        return "SELECT COALESCE(l.workspace_id, '') AS ws, '\(channel.rawValue)' AS ch, l.id AS lead, l.sentiment_tag AS tag, "
            + "l.email AS email FROM leads l" + address
    }

    /// The eligible candidates' condition (on the source's columns).
    func filter(_ args: inout SQLArgs) -> String {
        var parts = ["ch IN (" + channels.map { args.bind(.text($0.rawValue)) }.joined(separator: ", ") + ")"]
        if let workspace { parts.append("ws = \(args.bind(.text(workspace)))") }
        parts.append("(" + DraftEligibility.sql(&args) + ")")
        return parts.joined(separator: " AND ")
    }
}

/// The handler's tables in `APP_DB` (HANDLERS.md) and its statements.
enum DraftStore {
    static func migrations(_ d: AppDialect) -> [String] { [
        """
        CREATE TABLE IF NOT EXISTS leads (
            id TEXT PRIMARY KEY NOT NULL, workspace_id TEXT, sentiment_tag TEXT, email TEXT, phone TEXT
        );
        CREATE TABLE IF NOT EXISTS ai_drafts (
            id TEXT PRIMARY KEY NOT NULL, lead_id TEXT NOT NULL, channel TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending', content TEXT, regenerated_at \(d.time)
        );
        CREATE INDEX IF NOT EXISTS ai_drafts_lead_channel ON ai_drafts (lead_id, channel, status);
        """,
        // How many times a draft was regenerated: one per regeneration, so "once" is checkable.
        "ALTER TABLE ai_drafts ADD COLUMN regenerations INTEGER NOT NULL DEFAULT 0;",
    ] }

    /// Eligible leads in the scope (the run's `total`).
    static func count(_ db: any AppDatabase, _ scope: DraftScope) throws(HandlerError) -> Int {
        var args = SQLArgs()
        let source = scope.source(&args)
        let sql = "SELECT count(*) FROM (\(source)) s WHERE " + scope.filter(&args)
        return try db.queryOne(sql, args.values)?.int(0) ?? 0
    }

    /// Up to `limit` eligible leads after `after`, in key order.
    static func page(_ db: any AppDatabase, _ scope: DraftScope, after: DraftKey?, limit: Int) throws(HandlerError) -> [DraftItem] {
        var args = SQLArgs()
        let source = scope.source(&args)
        var sql = "SELECT ws, ch, lead, tag FROM (\(source)) s WHERE " + scope.filter(&args)
        if let after {
            sql += " AND (ws, ch, lead) > (\(args.bind(.text(after.workspace))), \(args.bind(.text(after.channel))), "
                + "\(args.bind(.text(after.lead))))"
        }
        sql += " ORDER BY ws, ch, lead LIMIT \(args.bind(.int(limit)))"
        return try db.query(sql, args.values).map { r in
            DraftItem(key: DraftKey(workspace: r.string(0) ?? "", channel: r.string(1) ?? "", lead: r.string(2) ?? ""), tag: r.string(3) ?? "")
        }
    }

    /// Those of `ids` (`channel:lead`) that are still eligible (a retry's items).
    static func items(_ db: any AppDatabase, _ scope: DraftScope, ids: [String]) throws(HandlerError) -> [String: DraftItem] {
        guard !ids.isEmpty else { return [:] }
        var args = SQLArgs()
        let source = scope.source(&args)
        let list = ids.map { args.bind(.text($0)) }.joined(separator: ", ")
        let sql = "SELECT ws, ch, lead, tag FROM (\(source)) s WHERE " + scope.filter(&args) + " AND (ch || ':' || lead) IN (\(list))"
        var found: [String: DraftItem] = [:]
        for r in try db.query(sql, args.values) {
            let item = DraftItem(key: DraftKey(workspace: r.string(0) ?? "", channel: r.string(1) ?? "", lead: r.string(2) ?? ""), tag: r.string(3) ?? "")
            found[item.key.itemId] = item
        }
        return found
    }

    /// Writes a regenerated draft: the lead's pending draft(s) on the channel get the
    /// new content; with `insert`, a lead with none gets a new pending draft. Returns
    /// false when there was no pending draft to update and none was inserted.
    static func write(_ db: any AppDatabase, _ key: DraftKey, content: String, at: String, insert: Bool) throws(HandlerError) -> Bool {
        let updated = try db.execute("UPDATE ai_drafts SET content = ?1, regenerated_at = ?2, regenerations = regenerations + 1 "
                                     + "WHERE lead_id = ?3 AND channel = ?4 AND status = 'pending'",
                                     [.text(content), .text(at), .text(key.lead), .text(key.channel)])
        guard updated == 0 else { return true }
        guard insert else { return false }
        let id = "draft_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
        try db.execute("INSERT INTO ai_drafts (id, lead_id, channel, status, content, regenerated_at, regenerations) "
                       + "VALUES (?1, ?2, ?3, 'pending', ?4, ?5, 1)",
                       [.text(id), .text(key.lead), .text(key.channel), .text(content), .text(at)])
        return true
    }
}
