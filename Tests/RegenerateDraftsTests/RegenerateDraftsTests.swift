import BatonHandlerKit
import Foundation
import RegenerateDrafts
import BatonTestSupport
import XCTest

/// The handler's body in-process, against a real APP_DB file and a real `baton sandbox`.
final class RegenerateDraftsTests: XCTestCase {
    var dir = ""
    var sandbox: SandboxProcess!
    var env: [String: String] = [:]
    var db: (any AppDatabase)!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("baton-drafts-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        sandbox = try SandboxProcess(dir: dir)
        env = ["APP_DB": "sqlite:\(dir)/app.db", "OPENAI_BASE_URL": sandbox.base + "/v1", "OPENAI_API_KEY": "sk-test"]
        db = try AppDB.open(environment: env)
        // The handler's own migration, as a slice would run it first.
        _ = try run(params: ["per_slice": "1"])
    }

    override func tearDown() {
        sandbox?.stop()
        db = nil
        try? FileManager.default.removeItem(atPath: dir)
    }

    // MARK: eligibility

    func testOnlyLeadsWhoseSentimentCallsForADraftAreRegenerated() throws {
        try lead("a1", tag: "Interested", email: "ann@example.com", drafts: [("email", "pending"), ("sms", "pending")])
        try lead("a2", tag: " follow up ", email: "MAILER-DAEMON@mx.example.com", drafts: [("email", "pending"), ("sms", "pending")])
        try lead("a3", tag: "Meeting Requested", email: "postmaster@example.net", drafts: [("email", "pending")])
        try lead("a4", tag: "Not Interested", email: "dan@example.com", drafts: [("email", "pending")])
        try lead("a5", tag: nil, email: "eve@example.com", drafts: [("sms", "pending")])
        try lead("a6", tag: "Positive", email: "bounces+x@list.example.com", drafts: [("email", "pending"), ("linkedin", "pending")])
        try lead("a7", tag: "Interested", email: "gus@example.com", drafts: [("email", "approved"), ("sms", "sent")])
        try lead("a8", tag: "Information Requested", email: "no-reply@example.com", drafts: [("email", "pending")])
        let out = try runAll()
        XCTAssertEqual(try regenerated(), ["a1/email", "a1/sms", "a2/sms", "a6/linkedin"],
                       "bounce senders only on email; negative or no sentiment never; only pending drafts")
        XCTAssertEqual(out.total, 4)
        XCTAssertEqual(try db.queryOne("SELECT count(*) FROM ai_drafts WHERE status <> 'pending' AND regenerated_at IS NOT NULL")?.int(0), 0)
        XCTAssertTrue(DraftEligibility.allows(tag: "Follow Up", email: "x@y.z", channel: .email))
        XCTAssertFalse(DraftEligibility.allows(tag: "Follow Up", email: "Mailer-Daemon@y.z", channel: .email))
        XCTAssertTrue(DraftEligibility.allows(tag: "Follow Up", email: "Mailer-Daemon@y.z", channel: .sms))
        XCTAssertTrue(DraftEligibility.allows(tag: "Interested", email: "mailerXdaemon@y.z", channel: .email), "_ in LIKE is escaped")
    }

    func testOnlyPendingFalseWritesANewPendingDraftAndNeedsAChannel() throws {
        try lead("b1", tag: "Interested", email: "b1@example.com", drafts: [])
        try lead("b2", tag: "Interested", email: "", drafts: [])
        try lead("b3", tag: "Follow Up", email: "b3@example.com", drafts: [("email", "approved")])
        XCTAssertThrowsError(try run(params: ["only_pending": "false"])) { e in
            XCTAssertTrue("\(e)".contains("needs one channel"), "\(e)")
        }
        _ = try runAll(params: ["only_pending": "false", "channel": "email"])
        XCTAssertEqual(try regenerated(), ["b1/email", "b3/email"], "a lead without an address on the channel gets none")
        XCTAssertEqual(try db.queryOne("SELECT count(*) FROM ai_drafts WHERE lead_id = 'b3' AND status = 'pending'")?.int(0), 1)
    }

    // MARK: key-set cursor

    /// Seed 000's index cursor skips leads when earlier ones are deleted: ours does not.
    func testLeadsDeletedAndAddedBetweenSlicesAreNeitherSkippedNorDoubled() throws {
        for k in 10..<30 { try lead("c\(k)", tag: "Interested", email: "c\(k)@example.com", drafts: [("sms", "pending")]) }
        var out = try run(params: ["per_slice": "5", "concurrency": "2"])
        XCTAssertEqual(out.succeeded, 5)
        XCTAssertEqual(out.hasMore, true)
        // Delete three finished leads and two ahead, add one behind the cursor and two ahead.
        for id in ["c10", "c11", "c12", "c20", "c21"] { try db.execute("DELETE FROM leads WHERE id = ?1", [.text(id)]) }
        for id in ["c00", "c155", "c99"] { try lead(id, tag: "Follow Up", email: "\(id)@example.com", drafts: [("sms", "pending")]) }
        var cursor = out.cursor?.encoded
        while out.hasMore == true {
            out = try run(params: ["per_slice": "5", "concurrency": "2"], cursor: cursor)
            cursor = out.cursor?.encoded
        }
        let counts = try db.query("SELECT lead_id, regenerations FROM ai_drafts d JOIN leads l ON l.id = d.lead_id")
        let twice = counts.filter { ($0.int(1) ?? 0) > 1 }.map { $0.string(0)! }
        XCTAssertEqual(twice, [], "none doubled")
        let missed = counts.filter { $0.int(1) == 0 }.map { $0.string(0)! }
        XCTAssertEqual(missed, ["c00"], "only the lead added behind the cursor waits for the next run")
    }

    // MARK: errors, rate limits, retry, budget

    func testOneFailedCallOfABatchIsIsolatedAndARetryRedoesOnlyIt() throws {
        for k in 0..<8 { try lead("d\(k)", tag: "Interested", email: "d\(k)@example.com", drafts: [("email", "pending")]) }
        try sandbox.faults([["status": 500]])
        let out = try runAll(params: ["concurrency": "4"])
        XCTAssertEqual(out.succeeded, 7)
        XCTAssertEqual(out.failed, 1)
        let failed = try XCTUnwrap(out.items.first)
        XCTAssertEqual(failed.error, "openai: server error 500")
        let before = try sandbox.aiCalls()
        let retried = try run(params: ["concurrency": "4"], payload: .object(["items": .array([.string(failed.id)])]))
        XCTAssertEqual(retried.succeeded, 1)
        XCTAssertEqual(retried.total, 1)
        XCTAssertEqual(try sandbox.aiCalls() - before, 1, "the retry made one call")
        XCTAssertEqual(try db.query("SELECT regenerations FROM ai_drafts").map { $0.int(0) ?? 0 }, Array(repeating: 1, count: 8))
    }

    func testARateLimitInABatchPausesAndTheNextSliceLosesAndRepeatsNothing() throws {
        for k in 0..<12 { try lead("e\(k)", tag: "Interested", email: "e\(k)@example.com", drafts: [("sms", "pending")]) }
        try sandbox.faults([["status": 429, "retry_after": "2"]])
        let first = try run(params: ["concurrency": "4"])
        XCTAssertEqual(first.hasMore, true)
        XCTAssertGreaterThanOrEqual(first.retryAfterMs ?? 0, 2000)
        XCTAssertEqual(first.failed, 0, "a rate limit is not a failure")
        XCTAssertEqual(first.cursor?.backoff, 2)
        let second = try run(params: ["concurrency": "4"], cursor: first.cursor?.encoded)
        XCTAssertEqual(second.hasMore, false)
        XCTAssertEqual(first.succeeded + second.succeeded, 12)
        XCTAssertEqual(second.cursor?.backoff, 1, "a success resets the back-off")
        XCTAssertEqual(try db.query("SELECT regenerations FROM ai_drafts").map { $0.int(0) ?? 0 }, Array(repeating: 1, count: 12))
    }

    func testAQuotaErrorFailsTheSlice() throws {
        try lead("f1", tag: "Interested", email: "f1@example.com", drafts: [("sms", "pending")])
        env["OPENAI_API_KEY"] = ""
        env["AI_PROVIDER"] = "openai"
        XCTAssertThrowsError(try run(params: [:]))
    }

    func testNoLeadIsTakenWhenTheBudgetIsBelowTheEstimateOrOnSIGTERM() throws {
        for k in 0..<3 { try lead("g\(k)", tag: "Interested", email: "g\(k)@example.com", drafts: [("sms", "pending")]) }
        let low = try run(params: [:], budgetMs: 900)
        XCTAssertEqual(low.processed, 0)
        XCTAssertEqual(low.hasMore, true)
        let stop = StopFlag()
        stop.set()
        let stopped = try run(params: [:], stop: stop)
        XCTAssertEqual(stopped.processed, 0)
        XCTAssertEqual(stopped.hasMore, true)
        XCTAssertEqual(try sandbox.aiCalls(), 0)
    }

    func testABadConcurrencyIsNamed() throws {
        env["REGENERATE_ALL_DRAFTS_CONCURRENCY"] = "lots"
        XCTAssertThrowsError(try run(params: [:])) { XCTAssertTrue("\($0)".contains("REGENERATE_ALL_DRAFTS_CONCURRENCY='lots'"), "\($0)") }
        env["REGENERATE_ALL_DRAFTS_CONCURRENCY"] = "3"
        XCTAssertThrowsError(try run(params: ["concurrency": "0"])) { XCTAssertTrue("\($0)".contains("'concurrency'"), "\($0)") }
    }

    // MARK: helpers

    func lead(_ id: String, tag: String?, email: String, drafts: [(String, String)], workspace: String = "ws") throws {
        try db.execute("INSERT INTO leads (id, workspace_id, sentiment_tag, email, phone) VALUES (?1, ?2, ?3, ?4, '+15550001')",
                       [.text(id), .text(workspace), .string(tag), .text(email)])
        for (channel, status) in drafts {
            try db.execute("INSERT INTO ai_drafts (id, lead_id, channel, status, content) VALUES (?1, ?2, ?3, ?4, 'old')",
                           [.text("\(id)-\(channel)"), .text(id), .text(channel), .text(status)])
        }
    }

    func regenerated() throws -> [String] {
        try db.query("SELECT lead_id || '/' || channel FROM ai_drafts WHERE regenerated_at IS NOT NULL AND content <> 'old' ORDER BY 1")
            .map { $0.string(0)! }
    }

    func run(params: [String: String], cursor: String? = nil, payload: JSONValue? = nil, budgetMs: Int64 = 30_000,
             stop: StopFlag = StopFlag()) throws -> SliceOutput {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let input = SliceInput(runId: "r_test", cursor: cursor, budgetMs: budgetMs, deadlineMs: now + budgetMs,
                               params: Params(params.mapValues { .string($0) }), payload: payload)
        return try RegenerateDraftsHandler().run(Slice(input: input, environment: env, stop: stop, log: { _ in }))
    }

    func runAll(params: [String: String] = [:]) throws -> SliceOutput {
        var out = try run(params: params)
        var total = out
        while out.hasMore == true {
            out = try run(params: params, cursor: out.cursor?.encoded)
            total.succeeded += out.succeeded; total.failed += out.failed; total.items += out.items
        }
        return total
    }
}
