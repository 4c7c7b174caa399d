import BatonHandlerKit
import Foundation
import BatonTestSupport
import XCTest

/// Issue 14: the kit's at-most-once send against a real SQLite file and a real sandbox;
/// the sandbox's own record of deliveries is the judge (no idempotency key is sent).
final class SendLedgerTests: XCTestCase {
    var dir = ""
    var sandbox: SandboxProcess!
    var db: (any AppDatabase)!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("baton-ledger-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        sandbox = try SandboxProcess(dir: dir)
        db = try AppDB.open(environment: ["APP_DB": "sqlite:\(dir)/app.db"])
        try db.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, psid TEXT, state TEXT NOT NULL DEFAULT 'pending', provider_id TEXT, error TEXT)")
        try db.execute("CREATE TABLE deliveries (message_id TEXT, recipient TEXT, status TEXT, provider_message_id TEXT, error TEXT, UNIQUE (message_id, recipient))")
        for k in 1...3 { try db.execute("INSERT INTO outbox (id, psid) VALUES (?1, ?2)", [.integer(Int64(k)), .text("psid\(k)")]) }
    }

    override func tearDown() {
        sandbox?.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func messenger(ms: Int64 = 5000) throws -> MessengerClient {
        try MessengerClient(baseURL: sandbox.base, pageToken: "t", deadline: Deadline(epochMs: Int64(Date().timeIntervalSince1970 * 1000) + ms, reserveMs: 0))
    }

    func row(_ id: Int64) -> SendLedger.Row {
        SendLedger.Row(table: "outbox", key: [("id", .integer(id))], status: "state", providerId: "provider_id", error: "error")
    }

    func state(_ id: Int64) throws -> String? { try db.queryOne("SELECT state FROM outbox WHERE id = ?1", [.integer(id)])?.string(0) }

    func testASendIsRecordedSentWithTheProvidersId() throws {
        let client = try messenger()
        let outcome = try SendLedger(db: db).send(row(1)) { () throws(ProviderError) in try client.send(psid: "psid1", text: "hi") }
        guard case let .sent(receipt) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(try state(1), "sent")
        XCTAssertEqual(try db.queryOne("SELECT provider_id FROM outbox WHERE id = 1")?.string(0), receipt.id)
        XCTAssertEqual(try SendLedger(db: db).send(row(1)) { () throws(ProviderError) in try client.send(psid: "psid1", text: "hi") }, .alreadySent)
        XCTAssertEqual(try sandbox.deliveries().count, 1)
    }

    func testOnlyTheOneWhoMovesItFromPendingSends() throws {
        // A second writer (another run) has claimed row 2: this one must not send it, and
        // reports it unknown (its sender may be mid-call or dead), never resent.
        let other = try AppDB.open(environment: ["APP_DB": "sqlite:\(dir)/app.db"])
        XCTAssertEqual(try other.execute("UPDATE outbox SET state = 'sending' WHERE id = 2 AND state = 'pending'"), 1)
        let client = try messenger()
        let outcome = try SendLedger(db: db).send(row(2)) { () throws(ProviderError) in try client.send(psid: "psid2", text: "hi") }
        XCTAssertEqual(outcome, .unknown(nil))
        XCTAssertEqual(outcome.item("m2")?.status, .unknown)
        XCTAssertEqual(try state(2), "unknown")
        XCTAssertEqual(try sandbox.deliveries().count, 0, "nothing was sent")
    }

    /// Work in the intent's commit (`first`) commits with it, or stops the send; a
    /// failure after the commit (`committed`: a sync that failed) sends nothing and
    /// hands the row back, or removes the row the intent inserted.
    func testWorkBeforeAndAfterTheIntentsCommit() throws {
        let client = try messenger()
        let ledger = SendLedger(db: db)
        let stopped = try ledger.send(row(1), first: { () throws(HandlerError) -> Bool in
            try self.db.execute("UPDATE outbox SET error = 'seen' WHERE id = 3"); return false
        }) { () throws(ProviderError) in try client.send(psid: "psid1", text: "hi") }
        XCTAssertEqual(stopped, .stopped)
        XCTAssertNil(stopped.item("m1"))
        XCTAssertEqual(try state(1), "pending")
        XCTAssertEqual(try db.queryOne("SELECT error FROM outbox WHERE id = 3")?.string(0), "seen", "what first wrote committed")
        let disk = HandlerError("APP_DB: syncing app.db-wal to disk failed: Input/output error")
        XCTAssertThrowsError(try ledger.send(row(1), committed: { () throws(HandlerError) in
            XCTAssertEqual(try self.state(1), "sending", "called after the intent's commit")
            throw disk
        }) { () throws(ProviderError) in try client.send(psid: "psid1", text: "hi") }) { XCTAssertEqual(($0 as? HandlerError)?.message, disk.message) }
        XCTAssertEqual(try state(1), "pending", "handed back")
        let inserted = SendLedger.Row(table: "deliveries", key: [("message_id", .text("m")), ("recipient", .text("psid1"))], insert: true)
        XCTAssertThrowsError(try ledger.send(inserted, from: [], committed: { () throws(HandlerError) in throw disk }) { () throws(ProviderError) in
            try client.send(psid: "psid1", text: "hi")
        })
        XCTAssertEqual(try db.queryOne("SELECT count(*) FROM deliveries")?.int(0), 0, "the inserted intent removed")
        XCTAssertEqual(try sandbox.deliveries().count, 0, "nothing was sent")
    }

    func testAHangPastTheDeadlineLeavesTheItemUnknown() throws {
        try sandbox.faults([["hang": true]])
        let client = try messenger(ms: 1000)
        let outcome = try SendLedger(db: db).send(row(1)) { () throws(ProviderError) in try client.send(psid: "psid1", text: "hi") }
        guard case let .unknown(error?) = outcome, error.mayHaveBeenDelivered else { return XCTFail("\(outcome)") }
        XCTAssertEqual(try state(1), "unknown")
        // Not sent again by a later slice.
        let fresh = try messenger()
        let again = try SendLedger(db: db).send(row(1)) { () throws(ProviderError) in try fresh.send(psid: "psid1", text: "hi") }
        XCTAssertEqual(again, .unknown(nil))
        XCTAssertEqual(try sandbox.deliveries().count, 0)
        // Unless a person says so (baton retry --include-unknown): then it is claimed from unknown.
        let decided = try SendLedger(db: db).send(row(1), from: ["pending", "unknown"]) { () throws(ProviderError) in try fresh.send(psid: "psid1", text: "hi") }
        guard case .sent = decided else { return XCTFail("\(decided)") }
        XCTAssertEqual(try sandbox.deliveries().count, 1)
    }

    func testARefusalIsFailedAndARateLimitHandsTheItemBack() throws {
        try sandbox.faults([["status": 400]])
        let client = try messenger()
        let refused = try SendLedger(db: db).send(row(1)) { () throws(ProviderError) in try client.send(psid: "psid1", text: "hi") }
        guard case .failed = refused else { return XCTFail("\(refused)") }
        XCTAssertEqual(try state(1), "failed")
        XCTAssertNotNil(try db.queryOne("SELECT error FROM outbox WHERE id = 1")?.string(0))
        try sandbox.faults([["status": 429, "retry_after": "2"]])
        let limited = try SendLedger(db: db).send(row(2)) { () throws(ProviderError) in try client.send(psid: "psid2", text: "hi") }
        guard case .notSent(.rateLimited) = limited else { return XCTFail("\(limited)") }
        XCTAssertNil(limited.item("m2"))
        XCTAssertEqual(try state(2), "pending", "handed back, to be sent after the pause")
    }

    func testAnInsertedIntentHasOneWinnerAndARateLimitRemovesIt() throws {
        let target = SendLedger.Row(table: "deliveries", key: [("message_id", .text("m1")), ("recipient", .text("p1"))],
                                    providerId: "provider_message_id", error: "error", insert: true)
        try sandbox.faults([["status": 429]])
        let client = try messenger()
        let limited = try SendLedger(db: db).send(target, from: []) { () throws(ProviderError) in try client.send(psid: "p1", text: "hi") }
        guard case .notSent = limited else { return XCTFail("\(limited)") }
        XCTAssertNil(try db.queryOne("SELECT status FROM deliveries"), "no intent left behind")
        let sent = try SendLedger(db: db).send(target, from: []) { () throws(ProviderError) in try client.send(psid: "p1", text: "hi") }
        guard case .sent = sent else { return XCTFail("\(sent)") }
        XCTAssertEqual(try SendLedger(db: db).send(target, from: []) { () throws(ProviderError) in try client.send(psid: "p1", text: "hi") }, .alreadySent)
        XCTAssertEqual(try sandbox.deliveries().count, 1)
    }

    func testADeferredOutcomeIsWrittenWithTheNextIntentOrByFlush() throws {
        let client = try messenger()
        let ledger = SendLedger(db: db, deferOutcomes: true)
        guard case .sent = try ledger.send(row(1), { () throws(ProviderError) in try client.send(psid: "psid1", text: "hi") }) else {
            return XCTFail("not sent")
        }
        XCTAssertEqual(try state(1), "sending", "held back until the next intent")
        guard case .sent = try ledger.send(row(2), { () throws(ProviderError) in try client.send(psid: "psid2", text: "hi") }) else {
            return XCTFail("not sent")
        }
        XCTAssertEqual([try state(1), try state(2)], ["sent", "sending"])
        try ledger.flush()
        XCTAssertEqual(try state(2), "sent")
        // The window it opens: a sender that dies with an outcome held back (no flush)
        // leaves `sending`, which the next sender reports unknown and does not resend.
        let dying = SendLedger(db: db, deferOutcomes: true)
        guard case .sent = try dying.send(row(3), { () throws(ProviderError) in try client.send(psid: "psid3", text: "hi") }) else {
            return XCTFail("not sent")
        }
        XCTAssertEqual(try SendLedger(db: db).send(row(3)) { () throws(ProviderError) in try client.send(psid: "psid3", text: "hi") }, .unknown(nil))
        XCTAssertEqual(try sandbox.deliveries().compactMap { $0["to"] as? String }, ["psid1", "psid2", "psid3"])
    }

    func testAnIntentThatCannotBeWrittenSendsNothing() throws {
        try db.execute("CREATE TRIGGER no_claims BEFORE UPDATE OF state ON outbox BEGIN SELECT RAISE(ABORT, 'claims refused'); END")
        let client = try messenger()
        XCTAssertThrowsError(try SendLedger(db: db).send(row(3)) { () throws(ProviderError) in try client.send(psid: "psid3", text: "hi") })
        XCTAssertEqual(try sandbox.deliveries().count, 0)
    }
}
