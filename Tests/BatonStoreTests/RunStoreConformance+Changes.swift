import BatonStore
import Synchronization
import XCTest

/// The change feed (issue 15, item 4): a store either gives none (`changeFeed()` nil:
/// SQLite, whose daemons poll) or tells every subscriber, on any handle, of the changes
/// other handles commit, and of nothing that was rolled back.
extension RunStoreConformance {
    func changeFeedTellsOfCommittedChangesOnly() async throws {
        let watcher = try await open(), writer = try await open()
        guard let feed = watcher.changeFeed() else {
            // No feed: the same answer on every handle, and nothing else to check.
            XCTAssertNil(writer.changeFeed())
            return
        }
        XCTAssertTrue(feed === watcher.changeFeed(), "a store gives one feed")
        let seen = ChangeLog()
        let listening = Task { for await change in feed.subscribe() { seen.append(change) } }
        defer { listening.cancel() }
        try await seen.wait(for: [.resync])
        XCTAssertTrue(feed.isLive)

        // A run nobody holds, queued: any daemon may drive it.
        _ = try await writer.createRun(Self.run("r_q", job: "j", status: .queued))
        // Held by its creator: nobody else need hear of it; a rolled-back insert says nothing.
        var held = Self.run("r_held", job: "j"); held.owner = "me:1:1"; held.leaseMs = 10_000
        _ = try await writer.createRun(held)
        do { _ = try await writer.createRun(Self.run("r_q", job: "j")); XCTFail("a second r_q") } catch {}
        _ = try await writer.requestCancel(runId: "r_q", at: 2_000)
        _ = try await writer.requestCancel(runId: "r_q", at: 2_001)  // flagged already: no second notice
        try await writer.setPaused(job: "j", paused: true, at: 2_000)
        let heldNow = try await writer.run(id: "r_held")
        let lease = try XCTUnwrap(heldNow.flatMap(Lease.init))
        let released = try await writer.release(lease)
        XCTAssertTrue(released)
        let claimed = try await writer.claim(runId: "r_held", owner: "me:1:1", leaseMs: 10_000, replacing: nil)
        _ = try await writer.endRun(try XCTUnwrap(Lease(try XCTUnwrap(claimed))), status: .cancelled, error: nil, at: 3_000)
        try await seen.wait(for: [.resync, .runWaiting(job: "j", run: "r_q"), .cancelRequested(job: "j", run: "r_q"),
                                  .jobState(job: "j"), .runWaiting(job: "j", run: "r_held"), .runEnded(job: "j", run: "r_held")])
    }
}

/// What a subscriber heard, in order.
final class ChangeLog: Sendable {
    private let changes = Mutex<[StoreChange]>([])

    func append(_ change: StoreChange) { changes.withLock { $0.append(change) } }

    var all: [StoreChange] { changes.withLock { $0 } }

    /// Waits (10 s at most) until `condition` holds for what was heard; fails if it never does.
    func wait(_ what: String, until condition: ([StoreChange]) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition(all) {
            guard ContinuousClock.now < deadline else { return XCTFail("timed out waiting for \(what); heard \(all)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits (10 s at most) until exactly `expected` was heard, and a moment more for
    /// anything that should not have been.
    func wait(for expected: [StoreChange]) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while changes.withLock({ $0.count < expected.count }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        // Notices arrive in commit order; one that should not exist would follow soon.
        try await Task.sleep(for: .milliseconds(200))
        XCTAssertEqual(changes.withLock { $0 }, expected)
    }
}
