// send-sms: a small handler on BatonHandlerKit. Sends the pending rows of the `outbox`
// table in APP_DB as SMS through Twilio (or `baton sandbox`), in id order, one slice at
// a time. The cursor is the last id handled (key-set: stable when rows come and go).
// Each send is recorded as intent ('sending') before the call and outcome after, so a
// slice killed mid-call never sends twice: a row found 'sending' is reported `unknown`
// for a person to decide (`baton retry`), not sent again.
//
//   send-sms --seed 10      create 10 demo rows (numbers +1555000000N)
//   baton invoke -- send-sms
import BatonHandlerKit
import BatonProviders
import BatonSQLite
import Foundation

let arguments = CommandLine.arguments
if let i = arguments.firstIndex(of: "--seed"), i + 1 < arguments.count, let n = Int(arguments[i + 1]) {
    let db = try Handler.openAppDB(environment: ProcessInfo.processInfo.environment)
    try db.executeScript(Outbox.schema)
    for k in 1...max(1, n) {
        try db.execute("INSERT INTO outbox (to_number, body) VALUES (?1, ?2)",
                       [.text("+1555\(String(format: "%07d", k))"), .text("Demo message \(k)")])
    }
    print("seeded \(n) messages")
    exit(0)
}

let slice = Handler.start()
let db: SQLiteConnection
do {
    db = try slice.openAppDB()
    try db.executeScript(Outbox.schema)
} catch {
    slice.log("cannot open APP_DB: \(error.message)")
    exit(1)
}
let twilio: TwilioClient
do {
    twilio = try TwilioClient(environment: slice.environment, deadline: slice.deadline())
} catch {
    slice.log("twilio: \(error) (set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, and TWILIO_BASE_URL for the sandbox)")
    exit(1)
}
let from = slice.environment["TWILIO_FROM"] ?? "+15550000000"
var out = SliceOutput(cursor: slice.input.cursor)
let after = Int64(slice.input.cursor ?? "0") ?? 0
out.total = (try? db.queryOne("SELECT count(*) FROM outbox", [], row: { $0.int(0) })) ?? nil
var last = after
let rows = (try? db.query("SELECT id, to_number, body, state FROM outbox WHERE id > ?1 ORDER BY id LIMIT 100", [.integer(after)]) {
    (id: $0.int64(0), to: $0.string(1), body: $0.string(2), state: $0.string(3))
}) ?? []
for row in rows {
    guard slice.shouldTakeItem(estimateMs: 300) else { break }
    let item = "msg_\(row.id)"
    switch row.state {
    case "sent":
        out.record(ItemOutcome(id: item, status: "skipped"))
    case "sending":
        // A previous slice died between the call and its outcome: never resend blindly.
        out.record(ItemOutcome(id: item, status: "unknown", error: "outcome of an earlier send is unknown"))
    default:
        try? db.execute("UPDATE outbox SET state = 'sending' WHERE id = ?1", [.integer(row.id)])
        do {
            let receipt = try twilio.send(to: row.to, from: from, body: row.body)
            try? db.execute("UPDATE outbox SET state = 'sent', provider_id = ?2 WHERE id = ?1", [.integer(row.id), .text(receipt.id)])
            out.record(ItemOutcome(id: item, status: "succeeded"))
        } catch let error {
            if case let .rateLimited(_, after) = error {
                // Not a failure: hand back the cursor and pause the run.
                try? db.execute("UPDATE outbox SET state = 'pending' WHERE id = ?1", [.integer(row.id)])
                out.retryAfterMs = after ?? 1000
                break
            }
            // Refused before it was taken: safe to mark failed. Timeouts may have been taken.
            let state = error == .timeout(provider: "twilio") ? "sending" : "failed"
            try? db.execute("UPDATE outbox SET state = ?2 WHERE id = ?1", [.integer(row.id), .text(state)])
            out.record(ItemOutcome(id: item, status: state == "sending" ? "unknown" : "failed", error: error.description))
        }
    }
    if out.retryAfterMs != nil { break }
    last = row.id
}
out.cursor = String(last)
let more = ((try? db.queryOne("SELECT 1 FROM outbox WHERE id > ?1 LIMIT 1", [.integer(last)], row: { _ in true })) ?? nil) ?? false
out.hasMore = more || out.retryAfterMs != nil
out.message = "\(out.succeeded) sent, \(out.failed) failed, \(out.skipped) skipped"
slice.finish(out)

enum Outbox {
    static let schema = """
        CREATE TABLE IF NOT EXISTS outbox (
            id INTEGER PRIMARY KEY, to_number TEXT NOT NULL, body TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending', provider_id TEXT
        );
        """
}
