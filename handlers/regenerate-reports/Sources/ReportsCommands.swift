import BatonCore
import BatonHandlerKit
import Foundation

/// `--seed`, `--backfill` and `--list`: what a person runs by hand.
enum ReportsCommands {
    static func open(_ env: [String: String]) throws(HandlerError) -> any AppDatabase {
        let db = try AppDB.open(environment: env)
        try db.migrate("regenerate-reports", ReportsTable.migrations(db.dialect))
        return db
    }

    static func interval(_ args: [String]) throws -> Duration {
        try Params.fromArguments(args.filter { $0 != "--json" }).duration("interval", default: .seconds(86_400))
    }

    static func seed(_ args: [String], _ env: [String: String]) throws -> String {
        guard let n = args.first.flatMap(Int.init), n > 0, n <= 1_000_000 else {
            throw HandlerError("--seed needs a count, e.g. --seed 50")
        }
        let db = try open(env)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let existing = try db.queryOne("SELECT count(*) FROM reports")?.int(0) ?? 0
        try db.transaction { () throws(HandlerError) in
            for k in 1...n {
                let id = "report_" + String(format: "%05d", existing + k)
                // Created over the last 30 days; every tenth one inactive.
                let created = now - Int64((k * 7_919) % (30 * 86_400)) * 1000
                try db.execute("INSERT INTO reports (id, title, status, created_at) VALUES (?1, ?2, ?3, ?4)",
                               [.text(id), .text("Brand report \(existing + k)"), .text(k % 10 == 0 ? "inactive" : "active"),
                                .text(AppDB.timestamp(created))])
            }
        }
        return "seeded \(n) reports (\(n / 10) inactive)"
    }

    /// As the seed's migration: `last_regenerated_at = now - interval + (created_at's
    /// epoch seconds mod interval)`, so existing reports come due spread over one
    /// interval instead of all at once. Only active reports never regenerated.
    static func backfill(_ args: [String], _ env: [String: String]) throws -> String {
        let every = Int64(try interval(args).components.seconds)
        let db = try open(env)
        let now = Int64(Date().timeIntervalSince1970)
        var stamped = 0
        try db.transaction { () throws(HandlerError) in
            let rows = try db.query("SELECT id, created_at FROM reports WHERE status = 'active' AND last_regenerated_at IS NULL ORDER BY id")
            for row in rows {
                let created = (AppDB.epochMs(row.string(1)) ?? now * 1000) / 1000
                let stamp = now - every + ((created % every) + every) % every
                stamped += try db.execute("UPDATE reports SET last_regenerated_at = ?2 WHERE id = ?1 AND last_regenerated_at IS NULL",
                                          [.text(row.string(0) ?? ""), .text(AppDB.timestamp(stamp * 1000))])
            }
        }
        return "backfilled \(stamped) reports over \(DurationText.format(.seconds(every)))"
    }

    static func list(_ args: [String], _ env: [String: String]) throws -> String {
        let every = Int64(try interval(args).components.seconds) * 1000
        let db = try open(env)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let rows = try db.query("SELECT \(ReportsTable.columns) FROM reports ORDER BY \(ReportsTable.order)").map(ReportsTable.report)
        func next(_ r: ReportsTable.Report) -> String? {
            guard r.status == "active" else { return nil }
            guard let last = AppDB.epochMs(r.lastRegeneratedAt), last + every > now else { return "due now" }
            return AppDB.timestamp(last + every)
        }
        if args.contains("--json") {
            return JSONValue.array(rows.map { r in
                .object(["id": .string(r.id), "title": .string(r.title), "status": .string(r.status),
                         "last_regenerated_at": r.lastRegeneratedAt.map { .string($0) } ?? .null,
                         "next_refresh": next(r).map { .string($0) } ?? .null])
            }).text
        }
        var lines = ["REPORT        STATUS    LAST REFRESH          NEXT REFRESH"]
        for r in rows {
            lines.append([r.id.padding(toLength: 12, withPad: " ", startingAt: 0), r.status.padding(toLength: 8, withPad: " ", startingAt: 0),
                          (r.lastRegeneratedAt ?? "never").padding(toLength: 20, withPad: " ", startingAt: 0),
                          next(r) ?? "-"].joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }
}
