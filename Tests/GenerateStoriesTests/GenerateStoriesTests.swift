import BatonHandlerKit
import Foundation
import GenerateStories
import XCTest

/// The handler's body in-process against a real sandbox and a real APP_DB file.
final class GenerateStoriesTests: XCTestCase {
    var w: StoriesWorld!

    override func setUpWithError() throws { w = try StoriesWorld() }
    override func tearDown() { w?.close() }

    func testQueuesEpicsInPriorityOrderAndReplacesEachEpicsStories() throws {
        // Priorities 10 and 2 must sort as numbers; NULL goes last; an epic with no cards is skipped.
        try w.project("p1", [("e-null", nil, 2), ("e-10", 10, 3), ("e-2", 2, 1), ("e-empty", 1, 0)])
        try w.db().execute("INSERT INTO stories (id, epic_id, title, body) VALUES ('old-1', 'e-2', 'old', 'old body')")
        let outs = try w.runToEnd("run-a", params: ["pacing": "fast"])
        XCTAssertEqual(try w.rows("SELECT epic_id, status FROM story_runs WHERE run_id = 'run-a' ORDER BY position"),
                       [["e-empty", "skipped"], ["e-2", "completed"], ["e-10", "completed"], ["e-null", "completed"]])
        XCTAssertEqual(outs.last?.hasMore, false)
        XCTAssertEqual(outs.compactMap(\.total).last, 4)
        XCTAssertEqual(outs.reduce(0) { $0 + $1.succeeded }, 3)
        XCTAssertEqual(outs.reduce(0) { $0 + $1.skipped }, 1)
        XCTAssertEqual(outs.reduce(0) { $0 + $1.processed }, 4, "each epic counted exactly once")
        XCTAssertGreaterThan(outs.reduce(0) { $0 + $1.usage.inputTokens }, 0)
        XCTAssertEqual(try w.rows("SELECT count(*) FROM stories WHERE id = 'old-1'"), [["0"]], "old stories replaced")
        for row in try w.rows("SELECT epic_id, stories_created FROM story_runs WHERE status = 'completed'") {
            let (epic, created) = (row[0], row[1])
            XCTAssertEqual(try w.rows("SELECT count(*) FROM stories WHERE epic_id = ?1", [.text(epic)]), [[created]])
            XCTAssertGreaterThanOrEqual(Int(created)!, 2)
        }
        XCTAssertEqual(try w.aiCalls(), 3, "no call for the epic without cards")
        XCTAssertEqual(try w.rows("SELECT count(*) FROM story_run_locks"), [["0"]], "the lock is released at the end")
    }

    func testUnknownEpicsAreFailedItemsAndEpicsParamTakesIdsOrCodes() throws {
        try w.project("p1", [("e1", 1, 1), ("e2", 2, 1), ("e3", 3, 1)])
        let outs = try w.runToEnd("run-a", params: ["epics": "C-e3,e1,nope", "pacing": "fast"])
        XCTAssertEqual(try w.rows("SELECT epic_id, status FROM story_runs WHERE run_id = 'run-a' ORDER BY position"),
                       [["nope", "failed"], ["e1", "completed"], ["e3", "completed"]])
        XCTAssertEqual(outs.flatMap(\.items).map(\.id), ["nope"])
        XCTAssertTrue(outs.flatMap(\.items).first?.error?.contains("no epic with id or code 'nope'") ?? false)
    }

    func testRetryRunProcessesExactlyTheRetryItems() throws {
        try w.project("p1", [("e1", 1, 1), ("e2", 2, 1), ("e3", 3, 1)])
        try w.runToEnd("run-b", params: ["pacing": "fast"], retry: ["e2"])
        XCTAssertEqual(try w.rows("SELECT epic_id, status FROM story_runs WHERE run_id = 'run-b'"), [["e2", "completed"]])
        XCTAssertEqual(try w.aiCalls(), 1)
    }

    func testAMalformedAnswerFailsOnlyItsEpicAndKeepsItsOldStories() throws {
        try w.project("p1", [("e1", 1, 1), ("e2", 2, 1)])
        try w.db().execute("INSERT INTO stories (id, epic_id, title, body) VALUES ('old-1', 'e1', 'old', 'old body')")
        try w.faults([["malformed": true]])
        let outs = try w.runToEnd("run-a", params: ["pacing": "fast"])
        XCTAssertEqual(try w.rows("SELECT epic_id, status FROM story_runs ORDER BY position"), [["e1", "failed"], ["e2", "completed"]])
        XCTAssertEqual(try w.rows("SELECT id FROM stories WHERE epic_id = 'e1'"), [["old-1"]])
        XCTAssertEqual(outs.flatMap(\.items).map(\.id), ["e1"])
    }

    func testARateLimitPausesTheRunWithTheBackoffInTheCursorAndFailsNothing() throws {
        try w.project("p1", [("e1", 1, 1), ("e2", 2, 1)])
        try w.faults([["status": 429, "retry_after": "2"]])
        let first = try w.slice("run-a", params: ["pacing": "fast"])
        XCTAssertEqual(first.processed, 0)
        XCTAssertEqual(first.failed, 0)
        XCTAssertEqual(first.retryAfterMs, 2_000, "Retry-After is longer than the fast profile's 500 ms")
        XCTAssertEqual(first.cursor?.backoff, 2)
        XCTAssertEqual(first.hasMore, true)
        XCTAssertEqual(try w.rows("SELECT status FROM story_runs ORDER BY position"), [["pending"], ["pending"]])
        let second = try w.slice("run-a", cursor: first.cursor?.encoded, params: ["pacing": "fast"])
        XCTAssertEqual(second.succeeded, 2)
        XCTAssertEqual(second.cursor?.backoff, 1, "a success resets the back-off")
    }

    func testSIGTERMStopsTakingEpicsAndTheCursorLosesNothing() throws {
        try w.project("p1", (1...4).map { ("e\($0)", $0, 1) })
        let stop = StopFlag()
        // The flag rises after the first epic's call: that epic is finished, the rest wait.
        let first = try w.slice("run-a", params: ["pacing": "fast"], stop: stop,
                                log: { line in if line.contains("status=completed") { stop.set() } })
        XCTAssertEqual(first.succeeded, 1)
        XCTAssertEqual(first.hasMore, true)
        XCTAssertEqual(first.cursor?.after, "1")
        XCTAssertEqual(try w.rows("SELECT status FROM story_runs ORDER BY position").map(\.[0]),
                       ["completed", "pending", "pending", "pending"])
        var cursor = first.cursor?.encoded
        var done = first.succeeded
        while true {
            let out = try w.slice("run-a", cursor: cursor, params: ["pacing": "fast"])
            done += out.succeeded
            cursor = out.cursor?.encoded
            if out.hasMore == false { break }
        }
        XCTAssertEqual(done, 4)
        XCTAssertEqual(try w.aiCalls(), 4, "no epic generated twice")
    }

    func testASecondRunOnABusyProjectIsRefusedNamingTheFirstRun() throws {
        try w.project("p1", [("e1", 1, 1), ("e2", 2, 1)])
        try w.project("p2", [("f1", 1, 1)])
        let stopped = StopFlag()
        stopped.set()
        // Run A takes the locks (and no epic: SIGTERM from the start).
        let a1 = try w.slice("run-a", params: ["project": "p1"], stop: stopped)
        XCTAssertEqual(a1.processed, 0)
        // Run B on every project: p1 is refused naming run-a, p2 goes ahead.
        let b = try w.runToEnd("run-b", params: ["pacing": "fast"])
        let items = b.flatMap(\.items)
        XCTAssertEqual(items.map(\.id).sorted(), ["e1", "e2"])
        XCTAssertTrue(items.allSatisfy { $0.error?.contains("active run run-a") ?? false }, "\(items)")
        XCTAssertEqual(try w.rows("SELECT epic_id, status FROM story_runs WHERE run_id = 'run-b' ORDER BY position"),
                       [["e1", "failed"], ["e2", "failed"], ["f1", "completed"]])
        // A finishes and lets go; a retry of B then does just the refused epics.
        try w.runToEnd("run-a", params: ["project": "p1", "pacing": "fast"])
        XCTAssertEqual(try w.rows("SELECT count(*) FROM story_run_locks"), [["0"]])
        try w.runToEnd("run-c", params: ["pacing": "fast"], retry: items.map(\.id))
        XCTAssertEqual(try w.rows("SELECT epic_id, status FROM story_runs WHERE run_id = 'run-c' ORDER BY position"),
                       [["e1", "completed"], ["e2", "completed"]])
    }

    func testALockPastItsLeaseIsTakenOverAndTheOldRunStops() throws {
        try w.project("p1", [("e1", 1, 1), ("e2", 2, 1)])
        let stopped = StopFlag()
        stopped.set()
        let a1 = try w.slice("run-a", stop: stopped)
        try w.db().execute("UPDATE story_run_locks SET lease_until = '2000-01-01T00:00:00Z'")
        // Run B takes the lapsed lock over (and holds it: SIGTERM before its first epic).
        let b1 = try w.slice("run-b", stop: stopped)
        XCTAssertEqual(b1.failed, 0)
        XCTAssertEqual(try w.rows("SELECT run_id FROM story_run_locks"), [["run-b"]])
        // Run A comes back while B holds the project: its epics fail naming B, nothing deleted.
        let a2 = try w.slice("run-a", cursor: a1.cursor?.encoded, params: ["pacing": "fast"])
        XCTAssertEqual(a2.failed, 2)
        XCTAssertTrue(a2.items.allSatisfy { $0.error?.contains("active run run-b") ?? false }, "\(a2.items)")
        XCTAssertEqual(try w.aiCalls(), 0)
        var cursor = b1.cursor?.encoded
        while true {
            let out = try w.slice("run-b", cursor: cursor, params: ["pacing": "fast"])
            cursor = out.cursor?.encoded
            if out.hasMore == false { break }
        }
        XCTAssertEqual(try w.rows("SELECT status FROM story_runs WHERE run_id = 'run-b'").map(\.[0]), ["completed", "completed"])
    }

    func testNoAIProviderIsAClearErrorBeforeAnyEpic() throws {
        try w.project("p1", [("e1", 1, 1)])
        w.env["OPENAI_API_KEY"] = nil
        XCTAssertThrowsError(try w.slice("run-a")) { error in
            XCTAssertTrue(String(describing: error).contains("no AI provider is configured"))
        }
        XCTAssertEqual(try w.rows("SELECT count(*) FROM story_runs"), [["0"]])
    }

    func testABudgetTooSmallForOneEpicFailsTheSliceInsteadOfLooping() throws {
        try w.project("p1", [("e1", 1, 1)])
        XCTAssertThrowsError(try w.slice("run-a", budgetMs: 2_000)) { XCTAssertTrue("\($0)".contains("too little time for one epic")) }
        XCTAssertEqual(try w.rows("SELECT status FROM story_runs"), [["pending"]])
    }

    func testAnUnknownProjectOrPacingIsABadParameter() throws {
        try w.project("p1", [("e1", 1, 1)])
        XCTAssertThrowsError(try w.slice("run-a", params: ["project": "nope"])) { XCTAssertTrue("\($0)".contains("project 'nope'")) }
        XCTAssertThrowsError(try w.slice("run-a", params: ["pacing": "turbo"])) { XCTAssertTrue("\($0)".contains("safe, normal, fast")) }
    }
}
