import BatonHandlerKit
import Foundation

/// The handler's own commands: `--seed N` (demo leads and drafts) and `--stats`.
enum DraftCommands {
    static var all: [String: HandlerCommand] {
        ["--seed": HandlerCommand("N [--json]: create N demo leads with drafts in APP_DB (3 workspaces, mixed sentiment)") { args, env in
            guard let n = args.first.flatMap(Int.init), (1...1_000_000).contains(n) else {
                throw HandlerError("--seed needs a count from 1 to 1000000, e.g. --seed 200")
            }
            let db = try AppDB.open(environment: env)
            try db.migrate("regenerate-drafts", DraftStore.migrations(db.dialect))
            let made = try seed(db, count: n)
            if args.contains("--json") {
                return JSONValue.object(["leads": .number(n), "drafts": .number(made.drafts), "eligible": .number(made.eligible)]).text
            }
            return "seeded \(n) leads and \(made.drafts) drafts; \(made.eligible) lead/channel pairs eligible with the defaults"
        },
         "--stats": HandlerCommand("[--json]: per workspace and channel: pending drafts, eligible, regenerated") { args, env in
            let db = try AppDB.open(environment: env)
            try db.migrate("regenerate-drafts", DraftStore.migrations(db.dialect))
            return try stats(db, json: args.contains("--json"))
        }]
    }

    static let tags: [String?] = ["Interested", "Follow Up", "Meeting Requested", "Neutral", "Not Interested",
                                  "Information Requested", "Positive", "Out of Office", nil, "interested "]

    /// Leads `lead_NNNNNN` numbered after the largest existing one, in workspaces
    /// `ws_1`…`ws_3`; every 7th has a bounce address; drafts on sms and email, most
    /// pending, some approved or sent.
    static func seed(_ db: any AppDatabase, count n: Int) throws(HandlerError) -> (drafts: Int, eligible: Int) {
        // Only all-digit suffixes are cast: PostgreSQL refuses to cast `lead_x` (SQLite reads 0).
        let top = try db.queryOne("SELECT max(CAST(substr(id, 6) AS BIGINT)) FROM leads WHERE id LIKE 'lead\\_%' ESCAPE '\\' "
                                  + "AND length(id) BETWEEN 6 AND 20 AND trim(substr(id, 6), '0123456789') = ''")?.int(0) ?? 0
        var drafts = 0, eligible = 0
        try db.transaction { () throws(HandlerError) in
            for k in (top + 1)...(top + n) {
                let id = "lead_" + String(format: "%06d", k)
                let tag = tags[k % tags.count]
                let email = k % 7 == 0 ? (k % 14 == 0 ? "MAILER-DAEMON@mx.example.com" : "postmaster@example.net") : "lead\(k)@example.com"
                try db.execute("INSERT INTO leads (id, workspace_id, sentiment_tag, email, phone) VALUES (?1, ?2, ?3, ?4, ?5)",
                               [.text(id), .text("ws_\(k % 3 + 1)"), .string(tag), .text(email), .text("+1555" + String(format: "%07d", k % 10_000_000))])
                for (channel, status) in [(Channel.sms, k % 5 == 0 ? "approved" : "pending"), (.email, k % 4 == 0 ? "sent" : "pending")] {
                    try db.execute("INSERT INTO ai_drafts (id, lead_id, channel, status, content) VALUES (?1, ?2, ?3, ?4, ?5)",
                                   [.text("draft_\(channel.rawValue)_\(id)"), .text(id), .text(channel.rawValue), .text(status),
                                    .text("Demo draft for \(id)")])
                    drafts += 1
                    if status == "pending", DraftEligibility.allows(tag: tag, email: email, channel: channel) { eligible += 1 }
                }
            }
        }
        return (drafts, eligible)
    }

    static func stats(_ db: any AppDatabase, json: Bool) throws(HandlerError) -> String {
        var args = SQLArgs()
        let scope = DraftScope(workspace: nil, channels: Channel.allCases, onlyPending: true)
        let source = scope.source(&args)
        let eligible = try db.query("SELECT ws, ch, count(*) FROM (\(source)) s WHERE " + scope.filter(&args) + " GROUP BY ws, ch", args.values)
        let drafts = try db.query("""
            SELECT COALESCE(l.workspace_id, ''), d.channel, sum(CASE WHEN d.status = 'pending' THEN 1 ELSE 0 END),
                   sum(CASE WHEN d.regenerated_at IS NOT NULL THEN 1 ELSE 0 END)
            FROM ai_drafts d JOIN leads l ON l.id = d.lead_id GROUP BY 1, 2 ORDER BY 1, 2
            """)
        var byKey: [String: Int] = [:]
        for r in eligible { byKey["\(r.string(0) ?? "")\t\(r.string(1) ?? "")"] = r.int(2) ?? 0 }
        let rows = drafts.map { r in
            (ws: r.string(0) ?? "", ch: r.string(1) ?? "", pending: r.int(2) ?? 0,
             eligible: byKey["\(r.string(0) ?? "")\t\(r.string(1) ?? "")"] ?? 0, regenerated: r.int(3) ?? 0)
        }
        if json {
            return JSONValue.array(rows.map { r in
                .object(["workspace": .string(r.ws), "channel": .string(r.ch), "pending": .number(r.pending),
                         "eligible": .number(r.eligible), "regenerated": .number(r.regenerated)])
            }).text
        }
        var lines = ["workspace  channel   pending  eligible  regenerated"]
        for r in rows {
            lines.append(r.ws.padding(toLength: 10, withPad: " ", startingAt: 0) + " " + r.ch.padding(toLength: 9, withPad: " ", startingAt: 0)
                         + String(format: "%8d  %8d  %11d", r.pending, r.eligible, r.regenerated))
        }
        return lines.joined(separator: "\n")
    }
}
