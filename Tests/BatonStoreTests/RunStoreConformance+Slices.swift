import BatonStore
import XCTest

extension RunStoreConformance {
    static let owner = "host-a:1"

    /// Creates `id` held by `owner` (epoch 1) and returns its lease.
    static func held(_ store: any RunStore, _ id: String, owner: String = owner, status: RunStatus = .running,
                     leaseMs: Int64 = 60_000) async throws -> (RunRecord, Lease) {
        var new = run(id, status: status)
        new.owner = owner; new.leaseMs = leaseMs
        let run = try await store.createRun(new)
        return (run, try XCTUnwrap(Lease(run)))
    }

    static func start(_ run: RunRecord, at: Int64 = 2_000) -> SliceStart {
        SliceStart(number: run.nextSlice, attempt: run.nextAttempt, startedAt: at, cursorIn: run.cursor)
    }

    /// The commit of a successful slice of `run` (at its next slice and attempt) that
    /// reports `items` and ends the run with `status` (running: it goes on).
    static func commit(of run: RunRecord, items: [String] = [], status: RunStatus = .running,
                       cursorOut: String? = "b:57", owner: String = owner) -> SliceCommit {
        var slice = SliceRecord(runId: run.id, number: run.nextSlice, attempt: run.nextAttempt, startedAt: 2_000,
                                cursorIn: run.cursor, owner: owner)
        slice.finishedAt = 2_500; slice.cursorOut = cursorOut; slice.outcome = .succeeded; slice.exitCode = 0
        slice.counts = Counts(processed: items.count, succeeded: items.count); slice.message = "sent"
        slice.log = "line 1\nline 2\n"
        // AI spend round-trips exactly, down to a fraction of a cent (schema 8).
        slice.usage = TokenUsage(inputTokens: 1_200, outputTokens: 300, costUsd: 0.012_345)
        var next = run
        next.usage = run.usage + slice.usage
        next.status = status; next.cursor = cursorOut; next.nextSlice = run.nextSlice + 1; next.nextAttempt = 1
        next.slicesDone += 1; next.counts = run.counts + slice.counts; next.updatedAt = 2_500; next.message = "sent"
        return SliceCommit(slice: slice, items: items.map { ItemRecord(runId: run.id, slice: slice.number, itemId: $0, status: "succeeded") },
                           progress: RunProgress(next))
    }

    /// Claims `id`, runs one slice of it and commits it with `items`, ending the run with
    /// `status` (running: it goes on). Returns the run as stored.
    @discardableResult
    static func commitOne(_ store: any RunStore, _ id: String, items: [String] = [], status: RunStatus = .running,
                          cursorOut: String? = "b:57", log: String? = nil) async throws -> RunRecord {
        let run = try XCTUnwrapAsync(try await store.claim(runId: id, owner: owner, leaseMs: 60_000, replacing: nil))
        let lease = try XCTUnwrap(Lease(run))
        _ = try await store.startSlice(lease, start(run), leaseMs: 60_000)
        var c = commit(of: run, items: items, status: status, cursorOut: cursorOut)
        if let log { c.slice.log = log }
        return try await store.commitSlice(lease, c)
    }

    /// Claims `id` and ends it with `status` (between slices).
    static func end(_ store: any RunStore, _ id: String, _ status: RunStatus, at: Int64) async throws {
        let run = try XCTUnwrapAsync(try await store.claim(runId: id, owner: owner, leaseMs: 60_000, replacing: nil))
        _ = try await store.endRun(try XCTUnwrap(Lease(run)), status: status, error: nil, at: at)
    }

    // MARK: Slices

    /// startSlice is one state change, conditional on the lease and on the run being at
    /// that slice and attempt: it cannot start twice, nor out of turn.
    func startSliceIsConditionalAndMakesAQueuedRunRunning() async throws {
        let store = try await open()
        let (run, lease) = try await Self.held(store, "r_q", status: .queued)
        XCTAssertEqual(run.status, .queued)
        XCTAssertEqual(run.epoch, 1)
        let started = try await store.startSlice(lease, Self.start(run), leaseMs: 60_000)
        XCTAssertEqual(started.status, .running)
        let slices = try await store.slices(runId: "r_q")
        XCTAssertEqual(slices.map(\.outcome), [.running])
        XCTAssertEqual(slices.first?.owner, Self.owner)
        await assertThrows(.conflict) { () throws(StoreError) in
            _ = try await store.startSlice(lease, Self.start(run), leaseMs: 60_000)
        }
        var later = Self.start(run); later.number = 5
        await assertThrows(.conflict) { () throws(StoreError) in _ = try await store.startSlice(lease, later, leaseMs: 60_000) }
        await assertThrows(.notFound) { () throws(StoreError) in
            _ = try await store.startSlice(Lease(runId: "r_missing", owner: Self.owner, epoch: 1), later, leaseMs: 1)
        }
        let after = try await store.slices(runId: "r_q")
        XCTAssertEqual(after.count, 1, "a refused start writes nothing")
    }

    func commitSliceWritesSliceItemsAndProgressTogether() async throws {
        let store = try await open()
        let (run, lease) = try await Self.held(store, "r_1")
        _ = try await store.startSlice(lease, Self.start(run), leaseMs: 60_000)
        _ = try await store.requestCancel(runId: "r_1", at: 2_100)
        let commit = Self.commit(of: run, items: ["lead_1", "lead_2"])
        let stored = try await store.commitSlice(lease, commit)
        XCTAssertEqual(RunProgress(stored), commit.progress)
        XCTAssertTrue(stored.cancelRequested, "a cancel requested while the slice ran survives its commit")
        XCTAssertEqual(stored.owner, Self.owner, "a run that goes on stays held")
        let slices = try await store.slices(runId: "r_1")
        XCTAssertEqual(slices, [commit.slice], "the running row became the finished one")
        let items = try await store.items(runId: "r_1", status: nil)
        XCTAssertEqual(items, commit.items)
        await assertThrows(.conflict) { () throws(StoreError) in _ = try await store.commitSlice(lease, commit) }

        // A failed attempt, its retry, then the end: listed in (number, attempt) order.
        _ = try await store.startSlice(lease, Self.start(stored), leaseMs: 60_000)
        var failed = Self.commit(of: stored)
        failed.slice.outcome = .failed; failed.slice.exitCode = 3; failed.slice.cursorOut = nil
        failed.progress = RunProgress(stored); failed.progress.nextAttempt = 2; failed.progress.failedAttempts = 1
        let afterFailure = try await store.commitSlice(lease, failed)
        XCTAssertEqual(afterFailure.cursor, "b:57", "a failed slice never advances the cursor")
        _ = try await store.startSlice(lease, Self.start(afterFailure), leaseMs: 60_000)
        let finished = try await store.commitSlice(lease, Self.commit(of: afterFailure, status: .succeeded, cursorOut: nil))
        XCTAssertEqual(finished.status, .succeeded)
        XCTAssertNil(finished.owner, "the commit that ends a run lets go of it")
        XCTAssertNil(finished.leaseExpiresAt)
        XCTAssertEqual(finished.finishedAt, 2_500)
        let all = try await store.slices(runId: "r_1").map { [$0.number, $0.attempt] }
        XCTAssertEqual(all, [[1, 1], [2, 1], [2, 2]])
    }

    func itemsKeepReportingOrderAndFilterByStatus() async throws {
        let store = try await open()
        let (run, lease) = try await Self.held(store, "r_1")
        _ = try await store.startSlice(lease, Self.start(run), leaseMs: 60_000)
        var first = Self.commit(of: run)
        first.items = [ItemRecord(runId: "r_1", slice: 1, itemId: "z", status: "succeeded"),
                       ItemRecord(runId: "r_1", slice: 1, itemId: "a", status: "failed", error: "provider 500"),
                       ItemRecord(runId: "r_1", slice: 1, itemId: "m", status: "skipped")]
        let afterFirst = try await store.commitSlice(lease, first)
        _ = try await store.startSlice(lease, Self.start(afterFirst), leaseMs: 60_000)
        var second = Self.commit(of: afterFirst)
        second.items = [ItemRecord(runId: "r_1", slice: 2, itemId: "b", status: "failed", error: "timeout"),
                        ItemRecord(runId: "r_1", slice: 2, itemId: "a", status: "succeeded")]
        _ = try await store.commitSlice(lease, second)
        let all = try await store.items(runId: "r_1", status: nil)
        XCTAssertEqual(all, first.items + second.items)
        let failed = try await store.items(runId: "r_1", status: "failed")
        XCTAssertEqual(failed, [first.items[1], second.items[0]])
        let none = try await store.items(runId: "r_1", status: "unknown")
        XCTAssertEqual(none, [])
    }

    func markSliceLostMarksTheRunningSliceAndMovesToTheNextAttempt() async throws {
        let store = try await open()
        let (run, lease) = try await Self.held(store, "r_1")
        _ = try await store.startSlice(lease, Self.start(run), leaseMs: 60_000)
        let repaired = try await store.markSliceLost(lease, number: 1, attempt: 1, at: 3_000)
        XCTAssertEqual(repaired.nextSlice, 1)
        XCTAssertEqual(repaired.nextAttempt, 2)
        XCTAssertNil(repaired.cursor, "the same cursor runs again")
        let slices = try await store.slices(runId: "r_1")
        XCTAssertEqual(slices.map(\.outcome), [.lost])
        XCTAssertEqual(slices.first?.finishedAt, 3_000)
        await assertThrows(.conflict) { () throws(StoreError) in
            _ = try await store.markSliceLost(lease, number: 1, attempt: 1, at: 3_100)
        }
        let again = try await store.run(id: "r_1")
        XCTAssertEqual(again?.nextAttempt, 2, "a refused repair changes nothing")
    }

    func endRunReopenAndReleaseAreConditionalOnTheLease() async throws {
        let store = try await open()
        let (_, lease) = try await Self.held(store, "r_1")
        let ended = try await store.endRun(lease, status: .cancelled, error: "cancelled", at: 4_000)
        XCTAssertEqual(ended.status, .cancelled)
        XCTAssertNil(ended.owner)
        XCTAssertEqual(ended.finishedAt, 4_000)
        await assertThrows(.fenced) { () throws(StoreError) in _ = try await store.reopen(lease, at: 4_100) }
        let claimed = try XCTUnwrapAsync(try await store.claim(runId: "r_1", owner: "b:2", leaseMs: 60_000, replacing: nil))
        XCTAssertEqual(claimed.epoch, 2)
        let lease2 = try XCTUnwrap(Lease(claimed))
        let reopened = try await store.reopen(lease2, at: 4_200)
        XCTAssertEqual(reopened.status, .running)
        XCTAssertNil(reopened.error)
        XCTAssertNil(reopened.finishedAt)
        let wrongRelease = try await store.release(lease)
        XCTAssertFalse(wrongRelease, "an old lease lets nothing go")
        let released = try await store.release(lease2)
        XCTAssertTrue(released)
        let free = try await store.run(id: "r_1")
        XCTAssertNil(free?.owner)
        XCTAssertEqual(free?.epoch, 2, "letting go keeps the epoch: the next claim raises it")
    }

    /// Two handles commit long chains side by side, each seeing the other's commits.
    func twoHandlesCommitSlicesConcurrently() async throws {
        let first = try await open(), second = try await open()
        let slicesPerRun = 60
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (store, id) in [(first, "r_1"), (second, "r_2")] {
                group.addTask {
                    let held = try await Self.held(store, id)
                    var run = held.0
                    let lease = held.1
                    for n in 1...slicesPerRun {
                        _ = try await store.startSlice(lease, Self.start(run), leaseMs: 60_000)
                        run = try await store.commitSlice(lease, Self.commit(of: run, items: ["\(id)-\(n)"], cursorOut: "c:\(n)"))
                    }
                }
            }
            try await group.waitForAll()
        }
        for (store, id) in [(second, "r_1"), (first, "r_2")] {
            let run = try await store.run(id: id)
            XCTAssertEqual(run?.cursor, "c:\(slicesPerRun)", "the other handle sees every commit")
            XCTAssertEqual(run?.slicesDone, slicesPerRun)
            let slices = try await store.slices(runId: id)
            XCTAssertEqual(slices.map(\.number), Array(1...slicesPerRun))
            XCTAssertEqual(slices.map(\.cursorIn), [nil] + (1..<slicesPerRun).map { "c:\($0)" })
            let items = try await store.items(runId: id, status: nil)
            XCTAssertEqual(items.map(\.itemId), (1...slicesPerRun).map { "\(id)-\($0)" })
        }
    }
}

/// `XCTUnwrap` for an async expression.
func XCTUnwrapAsync<T>(_ value: T?, file: StaticString = #filePath, line: UInt = #line) throws -> T {
    try XCTUnwrap(value, file: file, line: line)
}
