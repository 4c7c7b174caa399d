import BatonHandlerKit
import Foundation

/// `--seed` and `--stats`: what a person runs by hand.
enum BatchesCommands {
    static func seed(_ args: [String], _ env: [String: String]) throws -> String {
        guard let n = args.first.flatMap(Int.init), n > 0, n <= 1_000_000 else {
            throw HandlerError("--seed needs a count of recipients, e.g. --seed 1000")
        }
        let params = try Params.fromArguments(Array(args.dropFirst()))
        let size = try params.int("batch_size", default: 100, range: 1...10_000)
        let channel = try params.choice("channel", default: Channel.messenger).rawValue
        let db = try BatchesTable.open(env)
        let k = (try db.queryOne("SELECT count(*) FROM messages")?.int(0) ?? 0) + 1
        let id = "msg_" + String(format: "%04d", k)
        let recipients: [String] = (1...n).map { i in
            switch channel {
            case "sms": "+1555" + String(format: "%07d", (k * 100_000 + i) % 10_000_000)
            case "email": "lead\(k)-\(i)@example.com"
            default: String(7_000_000_000_000 + Int64(k) * 1_000_000 + Int64(i))  // PSID-like ids
            }
        }
        try BatchesTable.create(db, id: id, body: "Demo message \(k)", mediaURL: nil, channel: channel, recipients: recipients,
                                batchSize: size, nowMs: Int64(Date().timeIntervalSince1970 * 1000))
        return "seeded message \(id) to \(n) \(channel) recipients in \((n + size - 1) / size) batches"
    }

    enum Channel: String, CaseIterable { case messenger, sms, email }

    static func stats(_ args: [String], _ env: [String: String]) throws -> String {
        let db = try BatchesTable.open(env)
        let rows = try db.query("""
            SELECT m.id, m.status, m.total_recipients, m.sent_count, m.failed_count, m.unknown_count,
                   (SELECT count(*) FROM message_batches b WHERE b.message_id = m.id),
                   (SELECT count(*) FROM message_batches b WHERE b.message_id = m.id AND b.status IN ('completed', 'failed', 'cancelled'))
            FROM messages m ORDER BY m.id
            """)
        if args.contains("--json") {
            return JSONValue.object(["messages": .array(rows.map { r in
                .object(["id": .string(r.string(0) ?? ""), "status": .string(r.string(1) ?? ""), "total_recipients": .number(r.int(2) ?? 0),
                         "sent": .number(r.int(3) ?? 0), "failed": .number(r.int(4) ?? 0), "unknown": .number(r.int(5) ?? 0),
                         "batches": .number(r.int(6) ?? 0), "batches_closed": .number(r.int(7) ?? 0)])
            })]).text
        }
        return (["message     status     recipients  sent  failed  unknown  batches"] + rows.map { r in
            "\(r.string(0) ?? "")  \(r.string(1) ?? "")  \(r.int(2) ?? 0)  \(r.int(3) ?? 0)  \(r.int(4) ?? 0)  \(r.int(5) ?? 0)  \(r.int(7) ?? 0)/\(r.int(6) ?? 0)"
        }).joined(separator: "\n")
    }
}
