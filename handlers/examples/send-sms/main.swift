// send-sms: a small handler on BatonHandlerKit. Sends the pending rows of the `outbox`
// table in APP_DB as SMS through Twilio (or `baton sandbox`), in id order, one slice at
// a time. The cursor is the last id handled (key-set: stable when rows come and go).
// Each send goes through the kit's SendLedger: claimed as intent ('pending' -> 'sending',
// only by the one who moves it) before the call and its outcome written after, so a slice
// killed mid-call never sends twice: a row found 'sending', or a send that may have been
// delivered (a timeout after the request left), is `unknown` for a person to decide.
//
//   send-sms --seed 10      create 10 demo rows (numbers +1555000000N)
//   baton invoke --pass-env APP_DB,TWILIO_BASE_URL,TWILIO_ACCOUNT_SID,TWILIO_AUTH_TOKEN -- send-sms
import BatonHandlerKit

struct SendSMS: SliceHandler {
    static func schema(_ d: AppDialect) -> [String] { ["""
        CREATE TABLE IF NOT EXISTS outbox (
            id \(d.autoId), to_number TEXT NOT NULL, body TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending', provider_id TEXT
        );
        """] }

    var commands: [String: HandlerCommand] {
        ["--seed": HandlerCommand("N: create N demo rows in APP_DB's outbox") { args, env in
            guard let n = args.first.flatMap(Int.init), n > 0 else { throw HandlerError("--seed needs a count, e.g. --seed 10") }
            let db = try AppDB.open(environment: env)
            try db.migrate("send-sms", Self.schema(db.dialect))
            try db.transaction { () throws(HandlerError) in
                for k in 1...n {
                    let number = "+1555" + String(repeating: "0", count: 7 - String(k).count) + String(k)
                    try db.execute("INSERT INTO outbox (to_number, body) VALUES (?1, ?2)", [.text(number), .text("Demo message \(k)")])
                }
            }
            return "seeded \(n) messages"
        }]
    }

    func run(_ slice: Slice) throws -> SliceOutput {
        let db = try slice.openAppDB()
        try db.migrate("send-sms", Self.schema(db.dialect))
        let twilio: TwilioClient
        do { twilio = try TwilioClient(environment: slice.environment, deadline: slice.deadline()) } catch {
            throw HandlerError(error.description)
        }
        let from = slice.environment["TWILIO_FROM"] ?? "+15550000000"
        var out = SliceOutput(cursor: slice.cursor)
        let after = Int64(slice.cursor.after ?? "0") ?? 0
        out.total = try db.queryOne("SELECT count(*) FROM outbox")?.int(0)
        var last = after
        let rows = try db.query("SELECT id, to_number, body, state FROM outbox WHERE id > ?1 ORDER BY id LIMIT 100", [.integer(after)])
        let ledger = SendLedger(db: db)
        var backoff = Backoff(multiplier: slice.cursor.backoff)
        for row in rows {
            guard slice.shouldTakeItem(estimateMs: 300), let id = row.int64(0) else { break }
            let item = "msg_\(id)"
            // A retry run lists the failed (and, with --include-unknown, unknown) ids: those
            // may be claimed from their state; anything else only from pending.
            let listed = slice.input.retryItems?.contains(item) ?? false
            let target = SendLedger.Row(table: "outbox", key: [("id", .integer(id))], status: "state", providerId: "provider_id")
            let outcome = try ledger.send(target, from: listed ? ["pending", "failed", "unknown"] : ["pending"]) { () throws(ProviderError) in
                try twilio.send(to: row.string(1) ?? "", from: from, body: row.string(2) ?? "")
            }
            if case let .notSent(error) = outcome {
                switch ProviderVerdict.of(error, backoff: &backoff) {
                case let .pause(ms): out.retryAfterMs = ms
                case .stopTaking: break
                case let .failSlice(why): throw HandlerError(why)
                case let .itemFailed(why): out.record(ItemOutcome(id: item, status: .failed, error: why))
                }
                break
            }
            if case .sent = outcome { backoff.succeeded() }
            if let done = outcome.item(item) { out.record(done) }
            last = id
        }
        out.cursor = Cursor(after: String(last))
        out.cursor?.backoff = backoff.multiplier
        let more = try db.queryOne("SELECT 1 FROM outbox WHERE id > ?1 LIMIT 1", [.integer(last)]) != nil
        out.hasMore = more || out.retryAfterMs != nil
        out.message = "\(out.succeeded) sent, \(out.failed) failed, \(out.skipped) skipped"
        return out
    }
}

HandlerMain.run(SendSMS())
