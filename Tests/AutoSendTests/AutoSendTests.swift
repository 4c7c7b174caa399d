@testable import AutoSend
import BatonHandlerKit
import Foundation
import XCTest

/// auto-send's revision claim in-process against a real APP_DB file (issue 14): one
/// write wins, and a write that fails means no revision (fail closed), never an error
/// that would stop the slice. The end-to-end behaviour is in Tests/handlers/test_auto_send.py.
final class AutoSendTests: XCTestCase {
    var dir = ""
    var env: [String: String] = [:]

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("baton-autosend-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // No AI call is made here: the address only has to be well formed.
        env = ["APP_DB": "sqlite:\(dir)/app.db", "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"]
        _ = try XCTUnwrap(AutoSendHandler().commands["--seed"]).run(["3"], env)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func decision(_ db: any AppDatabase) throws -> DraftDecision {
        let input = SliceInput(runId: "r1", budgetMs: 10_000, deadlineMs: Int64(Date().timeIntervalSince1970 * 1000) + 10_000)
        let slice = try Slice(input: input, environment: env, log: { _ in })
        return DraftDecision(slice: slice, db: db, ai: try AIModel(environment: env, deadline: slice.deadline()), threshold: 0.8,
                             revisionKilled: false, retry: false)
    }

    func testTheRevisionAttemptIsClaimedByOneWriteOnly() throws {
        let db = try AutoSendStore.open(env)
        let other = try AutoSendStore.open(env)
        XCTAssertTrue(try decision(db).claimRevision("as_draft_000001"))
        XCTAssertFalse(try decision(other).claimRevision("as_draft_000001"), "claimed already, from another connection")
        XCTAssertNotNil(try db.queryOne("SELECT auto_send_revision_attempted_at FROM ai_drafts WHERE id = 'as_draft_000001'")?.string(0))
    }

    func testAClaimThatCannotBeWrittenMeansNoRevision() throws {
        let db = try AutoSendStore.open(env)
        try db.execute("CREATE TRIGGER refuse BEFORE UPDATE OF auto_send_revision_attempted_at ON ai_drafts BEGIN SELECT RAISE(ABORT, 'no'); END")
        XCTAssertFalse(try decision(db).claimRevision("as_draft_000002"))
        XCTAssertNil(try db.queryOne("SELECT auto_send_revision_attempted_at FROM ai_drafts WHERE id = 'as_draft_000002'")?.string(0))
    }
}
