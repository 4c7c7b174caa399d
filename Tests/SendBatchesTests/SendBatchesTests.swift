import BatonHandlerKit
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc
@testable import SendBatches
import Synchronization
import BatonTestSupport
import XCTest

/// send-batches in-process (issue 14): real APP_DB files, a real `baton sandbox`, slices
/// of several "workers" (run ids) sharing one message; a clock offset stands in for the
/// time a dead worker's lease takes to run out.
final class SendBatchesTests: XCTestCase {
    var dir = ""
    var sandbox: SandboxProcess!
    var base: String { sandbox.base }
    var env: [String: String] = [:]

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("baton-batches-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        sandbox = try SandboxProcess(dir: dir)
        env = ["APP_DB": "sqlite:\(dir)/app.db", "MESSENGER_BASE_URL": base, "MESSENGER_PAGE_TOKEN": "t"]
    }

    override func tearDown() {
        sandbox?.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    func seed(_ n: Int, batch: Int) throws {
        _ = try XCTUnwrap(SendBatchesHandler().commands["--seed"]).run([String(n), "--batch_size", String(batch)], env)
    }

    /// One slice of run `run`, its clock `offsetMs` ahead of the real one.
    func slice(_ run: String, params: [String: String] = ["rate": "1000"], offsetMs: Int64 = 0, retry: [String]? = nil) throws -> SliceOutput {
        let now = Self.now() + offsetMs
        var payload: JSONValue?
        if let retry { payload = .object(["items": .array(retry.map { .string($0) })]) }
        let input = SliceInput(runId: run, cursor: nil, budgetMs: 20_000, deadlineMs: now + 20_000,
                               params: Params(params.mapValues { .string($0) }), payload: payload)
        return try SendBatchesHandler().run(try Slice(input: input, environment: env, clock: { Self.now() + offsetMs }, log: { _ in }))
    }

    func delivered() throws -> [String] {
        try sandbox.deliveries(provider: "messenger").compactMap { $0["to"] as? String }
    }

    func testWorkersClaimDifferentBatchesAndADeadWorkersBatchIsTakenAfterItsLease() throws {
        try seed(30, batch: 10)
        let db = try BatchesTable.open(env)
        let now = Self.now(), lease: Int64 = 600_000
        let first = try XCTUnwrap(try BatchesTable.claim(db, runId: "r1", message: nil, nowMs: now, leaseMs: lease))
        let second = try XCTUnwrap(try BatchesTable.claim(db, runId: "r2", message: nil, nowMs: now, leaseMs: lease))
        XCTAssertEqual([first.id, second.id], ["msg_0001_b0001", "msg_0001_b0002"])
        XCTAssertEqual(first.recipients.count, 10)
        XCTAssertEqual(try BatchesTable.claim(db, runId: "r1", message: nil, nowMs: now, leaseMs: lease)?.id, first.id,
                       "a run takes up the batch it holds")
        XCTAssertEqual(try BatchesTable.claim(db, runId: "r3", message: nil, nowMs: now, leaseMs: lease)?.id, "msg_0001_b0003")
        XCTAssertNil(try BatchesTable.claim(db, runId: "r4", message: nil, nowMs: now, leaseMs: lease), "all held")
        // r1 dies; past its lease (times are whole seconds), r4 takes its batch and r1 (back after all) has lost it.
        XCTAssertEqual(try BatchesTable.claim(db, runId: "r4", message: nil, nowMs: now + lease + 1_000, leaseMs: lease)?.id, first.id)
        XCTAssertFalse(try BatchesTable.progress(db, first, runId: "r1", nowMs: now, leaseMs: lease))
        XCTAssertEqual(try db.queryOne("SELECT claimed_by FROM message_batches WHERE id = ?1", [.text(first.id)])?.string(0), "r4")
    }

    func testASliceSendsEveryRecipientOnceAndSummarisesTheMessage() throws {
        try seed(25, batch: 10)
        let out = try slice("r1")
        XCTAssertEqual(out.succeeded, 25)
        XCTAssertEqual(out.hasMore, false)
        let again = try slice("r2")
        XCTAssertEqual(again.processed, 0)
        let db = try BatchesTable.open(env)
        let m = try XCTUnwrap(try db.queryOne("SELECT status, sent_count, failed_count, total_recipients FROM messages"))
        XCTAssertEqual([m.string(0), m.string(1), m.string(2), m.string(3)], ["completed", "25", "0", "25"])
        XCTAssertEqual(try db.query("SELECT status, sent_count FROM message_batches ORDER BY batch_number").map { "\($0.string(0)!):\($0.int(1)!)" },
                       ["completed:10", "completed:10", "completed:5"])
        XCTAssertEqual(try db.queryOne("SELECT count(*) FROM message_deliveries WHERE tagged_at IS NOT NULL AND provider_message_id LIKE 'm_%'")?.int(0), 25)
        let sent = try delivered()
        XCTAssertEqual(sent.count, 25)
        XCTAssertEqual(Set(sent).count, 25)
    }

    func testARecipientADeadWorkerLeftSendingIsUnknownAndNotResent() throws {
        try seed(10, batch: 10)
        let db = try BatchesTable.open(env)
        let batch = try XCTUnwrap(try BatchesTable.claim(db, runId: "dead", message: nil, nowMs: Self.now(), leaseMs: 1_000))
        let psid = batch.recipients[3]
        // Its intent was written, then it died before the outcome.
        try db.execute("INSERT INTO message_deliveries (message_id, recipient, status, batch_id) VALUES ('msg_0001', ?1, 'sending', ?2)",
                       [.text(psid), .text(batch.id)])
        let out = try slice("r2", offsetMs: 2_000)
        XCTAssertEqual(out.succeeded, 9)
        XCTAssertEqual(out.items, [ItemOutcome(id: "msg_0001/\(psid)", status: .unknown, error: "an earlier send's outcome is unknown; not resent")])
        XCTAssertFalse(try delivered().contains(psid))
        let m = try XCTUnwrap(try db.queryOne("SELECT status, sent_count, unknown_count FROM messages"))
        XCTAssertEqual([m.string(0), m.string(1), m.string(2)], ["completed", "9", "1"])
    }

    /// Progress adds the outcomes written since the last count to the batch's counts
    /// (after counting all once): at every progress they equal what the deliveries say,
    /// with a recipient a dead worker left `sending` and one already sent in the batch,
    /// and in the next batch, claimed ahead (counted all then, at its claim).
    func testProgressCountsAgreeWithTheDeliveriesAtEveryStep() throws {
        try seed(80, batch: 40)
        let db = try BatchesTable.open(env)
        let batch = try XCTUnwrap(try BatchesTable.claim(db, runId: "dead", message: nil, nowMs: Self.now(), leaseMs: 1_000))
        for (k, status) in [(3, "sent"), (15, "sending")] {
            try db.execute("INSERT INTO message_deliveries (message_id, recipient, status, batch_id) VALUES ('msg_0001', ?1, ?2, ?3)",
                           [.text(batch.recipients[k]), .text(status), .text(batch.id)])
        }
        try db.execute("CREATE TABLE seen_counts (sent INTEGER, unknown INTEGER, true_sent INTEGER, true_unknown INTEGER)")
        try db.execute("""
            CREATE TRIGGER keep_counts AFTER UPDATE OF sent_count, unknown_count ON message_batches
            BEGIN INSERT INTO seen_counts VALUES (NEW.sent_count, NEW.unknown_count,
                (SELECT count(*) FROM message_deliveries WHERE batch_id = NEW.id AND status = 'sent'),
                (SELECT count(*) FROM message_deliveries WHERE batch_id = NEW.id AND status IN ('unknown', 'sending'))); END
            """)
        let out = try slice("r2", offsetMs: 2_000)
        XCTAssertEqual(out.succeeded, 78)
        let seen = try db.query("SELECT sent, unknown, true_sent, true_unknown FROM seen_counts ORDER BY rowid").map { ($0.int(0)!, $0.int(1)!, $0.int(2)!, $0.int(3)!) }
        XCTAssertGreaterThanOrEqual(seen.count, 10, "a progress every 10 of 39 and of 40, and the closes")
        for (sent, unknown, trueSent, trueUnknown) in seen {
            XCTAssertEqual([sent, unknown], [trueSent, trueUnknown], "\(seen)")
        }
        XCTAssertEqual(try db.query("SELECT sent_count, unknown_count FROM message_batches ORDER BY batch_number").map { [$0.int(0)!, $0.int(1)!] },
                       [[39, 1], [40, 0]])
    }

    /// A worker claimed a batch under boot "before", wrote its synced checkpoint naming
    /// recipients 0..<5 as its send window, sent 0 and 1 (their rows made durable by a
    /// later checkpoint's sync, say), and then lost to a power cut whatever it wrote
    /// without sync after: perhaps 2's intent, and 2 was delivered.
    func deadWorkersWindow(_ db: any AppDatabase) throws -> BatchesTable.Batch {
        let batch = try XCTUnwrap(try BatchesTable.claim(db, runId: "dead", message: nil, nowMs: Self.now(), leaseMs: 1_000))
        XCTAssertTrue(try BatchesTable.progress(db, batch, runId: "dead", nowMs: Self.now(), leaseMs: 1_000,
                                                window: Array(batch.recipients[0..<5]), boot: "before"))
        for psid in batch.recipients[0..<2] {
            try db.execute("INSERT INTO message_deliveries (message_id, recipient, status, batch_id) VALUES ('msg_0001', ?1, 'sent', ?2)",
                           [.text(psid), .text(batch.id)])
        }
        return batch
    }

    func testAfterARestartOfTheMachineTheWindowsRecipientsWithoutAnOutcomeAreUnknownNotResent() throws {
        try seed(10, batch: 10)
        let db = try BatchesTable.open(env)
        let batch = try deadWorkersWindow(db)
        env["BATON_BOOT_ID"] = "after"
        let out = try slice("r2", offsetMs: 2_000)
        XCTAssertEqual(out.succeeded, 5)
        XCTAssertEqual(out.items, batch.recipients[2..<5].map { ItemOutcome(id: "msg_0001/\($0)", status: .unknown, error: BatchesTable.restartError) })
        XCTAssertEqual(try delivered(), Array(batch.recipients[5...]), "none of the window resent")
        let m = try XCTUnwrap(try db.queryOne("SELECT status, sent_count, unknown_count FROM messages"))
        XCTAssertEqual([m.string(0), m.string(1), m.string(2)], ["completed", "7", "3"])
        XCTAssertNil(try db.queryOne("SELECT send_window FROM message_batches")?.string(0), "closed: no window left")
    }

    func testUnderTheSameBootTheWindowsRecipientsWithoutARowWereNeverSentAndAreSent() throws {
        try seed(10, batch: 10)
        let db = try BatchesTable.open(env)
        let batch = try deadWorkersWindow(db)
        env["BATON_BOOT_ID"] = "before"   // the worker died (kill -9), the machine did not: nothing written was lost
        let out = try slice("r2", offsetMs: 2_000)
        XCTAssertEqual(out.succeeded, 8)
        XCTAssertEqual(out.items, [])
        XCTAssertEqual(try delivered(), Array(batch.recipients[2...]))
    }

    /// A message to `n` recipients sent by one slice under boot "boot-1", every send
    /// window kept as it was written (`keepWindows`).
    func sendKeepingWindows(_ n: Int, batch: Int) throws -> any AppDatabase {
        try seed(n, batch: batch)
        env["BATON_BOOT_ID"] = "boot-1"
        let db = try BatchesTable.open(env)
        try keepWindows(db)
        XCTAssertEqual(try slice("r1").succeeded, n)
        return db
    }

    /// A trigger keeps every send window in `seen_windows` as it is written, with its
    /// batch, the status of batch 1 and the count of delivery rows at that instant.
    func keepWindows(_ db: any AppDatabase) throws {
        try db.execute("CREATE TABLE seen_windows (batch TEXT, send_window TEXT, send_boot TEXT, first_status TEXT, deliveries INTEGER)")
        try db.execute("""
            CREATE TRIGGER keep_windows AFTER UPDATE OF send_window ON message_batches WHEN NEW.send_window IS NOT NULL
            BEGIN INSERT INTO seen_windows VALUES (NEW.id, NEW.send_window, NEW.send_boot,
                (SELECT status FROM message_batches WHERE batch_number = 1), (SELECT count(*) FROM message_deliveries)); END
            """)
    }

    /// Each send window names the next recipients before any of them is sent.
    func testBeforeSendingASliceNamesItsNextRecipientsAsItsSendWindowUnderItsBoot() throws {
        let db = try sendKeepingWindows(60, batch: 60)
        let order = try delivered()
        func list(_ text: String?) -> [String] {
            guard case let .array(items)? = JSONValue.parse(Array((text ?? "").utf8)) else { return [] }
            return items.compactMap(\.string)
        }
        let seen = try db.query("SELECT send_window, send_boot, deliveries FROM seen_windows ORDER BY rowid")
        // A window of 50 every 20 recipients: each send is named by the window of the
        // checkpoint before the last, whose sync the last one waited for.
        XCTAssertEqual(seen.map { list($0.string(0)) }, [Array(order[0..<50]), Array(order[20...]), Array(order[40...])])
        XCTAssertEqual(seen.map { $0.string(1) }, ["boot-1", "boot-1", "boot-1"])
        XCTAssertEqual(seen.map { $0.int(2) }, [0, 20, 40])
    }

    /// Schema 3 keys deliveries by (message_id, recipient) alone, with no index by batch
    /// (one page written per send on SQLite): a database at schema 2 keeps its rows, and
    /// the key still refuses a second row for a recipient.
    func testDeliveriesMovedToTheirKeyedTableKeepEveryRow() throws {
        let db = try AppDB.open(environment: env)
        let steps = BatchesTable.migrations(db.dialect)
        XCTAssertEqual(steps.count, 3)
        try db.migrate("send-batches", Array(steps.prefix(2)))
        try db.execute("INSERT INTO message_deliveries (message_id, recipient, status, batch_id, provider_message_id) VALUES ('m', 'p1', 'sent', 'm_b0001', 'x1')")
        try db.execute("INSERT INTO message_deliveries (message_id, recipient, status, batch_id) VALUES ('m', 'p2', 'unknown', 'm_b0001')")
        let migrated = try BatchesTable.open(env)
        XCTAssertEqual(try migrated.query("SELECT recipient, status, provider_message_id FROM message_deliveries ORDER BY recipient")
                        .map { [$0.string(0), $0.string(1), $0.string(2)] }, [["p1", "sent", "x1"], ["p2", "unknown", nil]])
        XCTAssertEqual(try migrated.query("SELECT name FROM sqlite_master WHERE tbl_name = 'message_deliveries' AND type = 'index' AND sql IS NOT NULL")
                        .count, 0, "no index by batch")
        XCTAssertTrue(try XCTUnwrap(migrated.queryOne("SELECT sql FROM sqlite_master WHERE name = 'message_deliveries'")?.string(0))
                        .contains("WITHOUT ROWID"))
        XCTAssertThrowsError(try migrated.execute("INSERT INTO message_deliveries (message_id, recipient, status) VALUES ('m', 'p1', 'sending')"))
        let batch = BatchesTable.Batch(id: "m_b0001", messageId: "m", recipients: ["p1", "p2", "p3"])
        XCTAssertEqual(try BatchesTable.counts(migrated, batch), BatchesTable.Counts(sent: 1, failed: 0, unknown: 1))
        XCTAssertEqual(try BatchesTable.settled(migrated, batch), ["p1", "p2"])
        // A batch past `partSize` recipients is looked up in parts.
        let large = BatchesTable.Batch(id: "m_b0001", messageId: "m", recipients: ["p1"] + (0..<1_200).map { "q\($0)" } + ["p2"])
        XCTAssertEqual(large.parts.count, 3)
        XCTAssertEqual(try BatchesTable.counts(migrated, large), BatchesTable.Counts(sent: 1, failed: 0, unknown: 1))
        XCTAssertEqual(try BatchesTable.settled(migrated, large), ["p1", "p2"])
    }

    /// The next batch is claimed after the current one's last checkpoint, its first
    /// window written then (and synced in the background), so its first send need not
    /// wait for a sync.
    func testTheNextBatchIsClaimedAheadWithItsFirstWindow() throws {
        let db = try sendKeepingWindows(60, batch: 30)
        let seen = try db.query("SELECT batch, first_status, deliveries FROM seen_windows ORDER BY rowid")
            .map { "\($0.string(0)!) \($0.string(1)!) \($0.int(2)!)" }
        XCTAssertEqual(seen.first { $0.hasPrefix("msg_0001_b0002") }, "msg_0001_b0002 processing 21",
                       "batch 2 claimed after batch 1's last checkpoint (its 21st recipient), 9 before its end: \(seen)")
        XCTAssertEqual(Set(try delivered()).count, 60)
        XCTAssertEqual(try db.query("SELECT status FROM message_batches").compactMap { $0.string(0) }, ["completed", "completed"])
    }

    /// A run stopped holding a batch (its budget, a rate limit), and the message was
    /// cancelled meanwhile: its next slice takes the batch up and closes it `cancelled`
    /// (it stayed `processing` for ever before), sending nothing.
    func testABatchHeldWhenItsMessageWasCancelledIsClosedCancelled() throws {
        try seed(20, batch: 10)
        let db = try BatchesTable.open(env)
        XCTAssertNotNil(try BatchesTable.claim(db, runId: "r1", message: nil, nowMs: Self.now(), leaseMs: 600_000))
        try db.execute("UPDATE messages SET status = 'cancelled'")
        let out = try slice("r1")
        XCTAssertEqual(out.processed, 0)
        XCTAssertEqual(out.hasMore, false)
        XCTAssertEqual(try db.query("SELECT status FROM message_batches ORDER BY batch_number").compactMap { $0.string(0) },
                       ["cancelled", "cancelled"])
        XCTAssertEqual(try delivered(), [])
    }

    func testAClosedBatchLeavesNoSendWindowBehind() throws {
        try seed(120, batch: 60)
        let out = try slice("r1")
        XCTAssertEqual(out.succeeded, 120)
        let db = try BatchesTable.open(env)
        XCTAssertEqual(try db.query("SELECT send_window, send_boot FROM message_batches").filter { $0.string(0) != nil || $0.string(1) != nil }, [])
        XCTAssertEqual(Set(try delivered()).count, 120)
    }

    func testABadRateOrLeaseIsNamed() throws {
        try seed(1, batch: 1)
        XCTAssertThrowsError(try slice("r1", params: ["rate": "0"])) { XCTAssertTrue("\($0)".contains("rate"), "\($0)") }
        XCTAssertThrowsError(try slice("r1", params: ["lease": "soon"])) { XCTAssertTrue("\($0)".contains("lease"), "\($0)") }
    }
}
