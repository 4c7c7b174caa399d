import BatonHandlerKit
import Foundation

/// `--seed` and `--stats` (stats only: counts, never draft text).
enum AutoSendCommands {
    static func seed(_ args: [String], _ env: [String: String]) throws -> String {
        guard let n = args.first.flatMap(Int.init), n > 0, n <= 1_000_000 else {
            throw HandlerError("--seed needs a count, e.g. --seed 50")
        }
        let db = try AutoSendStore.open(env)
        let existing = try db.queryOne("SELECT count(*) FROM leads WHERE id LIKE 'as_lead_%'")?.int(0) ?? 0
        try db.transaction { () throws(HandlerError) in
            // ws_auto_rev: auto-send with revision; ws_auto: without; ws_manual: auto-send off.
            for (ws, on, rev) in [("ws_auto_rev", 1, 1), ("ws_auto", 1, 0), ("ws_manual", 0, 0)] {
                try db.execute("INSERT INTO workspace_settings (workspace_id, auto_send_enabled, auto_send_revision_enabled) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                               [.text(ws), .int(on), .int(rev)])
            }
            for k in existing + 1...existing + n {
                let lead = "as_lead_" + String(format: "%06d", k)
                let ws = ["ws_auto_rev", "ws_auto", "ws_manual"][k % 3]
                try db.execute("INSERT INTO leads (id, workspace_id, sentiment_tag, email, phone) VALUES (?1, ?2, 'Interested', ?3, ?4)",
                               [.text(lead), .text(ws), .text("lead\(k)@example.com"), .text("+1555" + String(format: "%07d", k % 10_000_000))])
                try db.execute("INSERT INTO ai_drafts (id, lead_id, channel, status, content) VALUES (?1, ?2, 'sms', 'pending', ?3)",
                               [.text("as_draft_" + String(format: "%06d", k)), .text(lead), .text("Hi, thanks for your reply. Would a short call this week work?")])
            }
        }
        return "seeded \(n) leads with a pending sms draft each in ws_auto_rev, ws_auto and ws_manual"
    }

    static func stats(_ args: [String], _ env: [String: String]) throws -> String {
        let db = try AutoSendStore.open(env)
        let rows = try db.query("""
            SELECT l.workspace_id,
                   sum(CASE WHEN d.auto_send_revision_attempted_at IS NOT NULL THEN 1 ELSE 0 END),
                   sum(CASE WHEN d.auto_send_revision_applied = 1 THEN 1 ELSE 0 END),
                   sum(CASE WHEN d.auto_send_action = 'sent' THEN 1 ELSE 0 END),
                   sum(CASE WHEN d.auto_send_action IN ('needs_review', 'blocked') THEN 1 ELSE 0 END)
            FROM ai_drafts d JOIN leads l ON l.id = d.lead_id GROUP BY l.workspace_id ORDER BY l.workspace_id
            """)
        if args.contains("--json") {
            return JSONValue.object(["workspaces": .array(rows.map { r in
                .object(["workspace": .string(r.string(0) ?? ""), "attempted": .number(r.int(1) ?? 0), "applied": .number(r.int(2) ?? 0),
                         "sent": .number(r.int(3) ?? 0), "queued": .number(r.int(4) ?? 0)])
            })]).text
        }
        return (["workspace  attempted  applied  sent  queued"] + rows.map { r in
            "\(r.string(0) ?? "")  \(r.int(1) ?? 0)  \(r.int(2) ?? 0)  \(r.int(3) ?? 0)  \(r.int(4) ?? 0)"
        }).joined(separator: "\n")
    }
}
