import BatonStore
import XCTest

extension RunStoreConformance {
    /// The first slice of `run` as started by `owner`.
    static func slice(of run: RunRecord, number: Int = 1, attempt: Int = 1, at: Int64 = 2_000,
                      owner: String? = "host-a:1") -> SliceRecord {
        SliceRecord(runId: run.id, number: number, attempt: attempt, startedAt: at, cursorIn: run.cursor, owner: owner)
    }

    /// A finished slice of `run` that reports `items` (with `status`), and the run after it.
    static func completion(of run: RunRecord, number: Int = 1, attempt: Int = 1, items: [String] = [],
                           status: RunStatus = .running, cursorOut: String? = "b:57") -> SliceCompletion {
        var slice = slice(of: run, number: number, attempt: attempt)
        slice.finishedAt = 2_500; slice.cursorOut = cursorOut; slice.outcome = .succeeded; slice.exitCode = 0
        slice.counts = Counts(processed: items.count, succeeded: items.count); slice.message = "sent"
        slice.log = "line 1\nline 2\n"
        // AI spend round-trips exactly, down to a fraction of a cent (schema 8).
        slice.usage = TokenUsage(inputTokens: 1_200, outputTokens: 300, costUsd: 0.012_345)
        var next = run
        next.usage = run.usage + slice.usage
        next.status = status; next.cursor = cursorOut; next.nextSlice = number + 1; next.nextAttempt = 1
        next.slicesDone += 1; next.counts = run.counts + slice.counts; next.updatedAt = 2_500
        next.finishedAt = status.isFinished ? 2_500 : nil
        return SliceCompletion(slice: slice,
                               items: items.map { ItemRecord(runId: run.id, slice: number, itemId: $0, status: "succeeded") },
                               run: next)
    }

    // MARK: Slices

    func startSliceIsIdempotentAndRenewsOwnerAndLease() async throws {
        let store = try await open()
        let run = try await store.createRun(Self.run("r_1"))
        let slice = Self.slice(of: run, owner: "host-a:1")
        try await store.startSlice(slice, leaseExpiresAt: 9_000)
        try await store.startSlice(slice, leaseExpiresAt: 9_000)
        let slices = try await store.slices(runId: "r_1")
        XCTAssertEqual(slices, [slice], "one running row, however often it is started")
        let owned = try await store.run(id: "r_1")
        XCTAssertEqual(owned?.owner, "host-a:1")
        XCTAssertEqual(owned?.leaseExpiresAt, 9_000)
        XCTAssertEqual(owned?.updatedAt, 2_000)

        await assertThrows(.notFound) { () throws(StoreError) in
            try await store.startSlice(SliceRecord(runId: "r_missing", number: 1, attempt: 1, startedAt: 0), leaseExpiresAt: nil)
        }
        let orphans = try await store.slices(runId: "r_missing")
        XCTAssertEqual(orphans, [])
    }

    /// A queued run becomes running with its first slice's start, in that one commit.
    func startSliceMakesAQueuedRunRunning() async throws {
        let store = try await open()
        let run = try await store.createRun(Self.run("r_q", status: .queued))
        XCTAssertEqual(run.status, .queued)
        try await store.startSlice(Self.slice(of: run), leaseExpiresAt: 9_000)
        let started = try await store.run(id: "r_q")
        XCTAssertEqual(started?.status, .running)
        let finished = try await store.createRun(Self.run("r_done", status: .running))
        var done = finished
        done.status = .cancelled; done.finishedAt = 1_500
        _ = try await store.updateRun(done)
        try await store.startSlice(Self.slice(of: finished), leaseExpiresAt: 9_000)
        let still = try await store.run(id: "r_done")
        XCTAssertEqual(still?.status, .cancelled, "only queued becomes running")
    }

    /// A queued run is claimed with its first slice's start in one operation, once.
    func startQueuedClaimsAndStartsOnlyAQueuedRunNobodyHolds() async throws {
        let store = try await open()
        let run = try await store.createRun(Self.run("r_q", status: .queued))
        let mine = Self.slice(of: run, at: 3_000, owner: "host-a:1")
        let taken = try await store.startQueued(mine, leaseExpiresAt: 9_000, now: 3_000)
        XCTAssertEqual(taken?.status, .running)
        XCTAssertEqual(taken?.owner, "host-a:1")
        XCTAssertEqual(taken?.leaseExpiresAt, 9_000)
        let slices = try await store.slices(runId: "r_q")
        XCTAssertEqual(slices, [mine])
        // Taken already: a second taker gets nothing, and nothing changes.
        let other = Self.slice(of: run, at: 3_100, owner: "host-b:2")
        let second = try await store.startQueued(other, leaseExpiresAt: 9_500, now: 3_100)
        XCTAssertNil(second)
        let kept = try await store.run(id: "r_q")
        XCTAssertEqual(kept?.owner, "host-a:1")
        // Queued but held by a live owner: not taken; once its lease ran out: taken.
        var held = Self.run("r_held", status: .queued)
        held.owner = "host-c:3"; held.leaseExpiresAt = 5_000
        let heldRun = try await store.createRun(held)
        let early = try await store.startQueued(Self.slice(of: heldRun, owner: "host-a:1"), leaseExpiresAt: 9_000, now: 4_000)
        XCTAssertNil(early)
        let late = try await store.startQueued(Self.slice(of: heldRun, owner: "host-a:1"), leaseExpiresAt: 9_000, now: 6_000)
        XCTAssertEqual(late?.owner, "host-a:1")
    }

    func finishSliceCommitsSliceItemsAndRunTogether() async throws {
        let store = try await open()
        let run = try await store.createRun(Self.run("r_1"))
        try await store.startSlice(Self.slice(of: run), leaseExpiresAt: 9_000)
        let completion = Self.completion(of: run, items: ["lead_1", "lead_2"])
        let stored = try await store.finishSlice(completion)
        XCTAssertEqual(stored, completion.run)
        let read = try await store.run(id: "r_1")
        XCTAssertEqual(read, completion.run)
        let slices = try await store.slices(runId: "r_1")
        XCTAssertEqual(slices, [completion.slice], "the running row became the finished one")
        let items = try await store.items(runId: "r_1", status: nil)
        XCTAssertEqual(items, completion.items)

        // A failed attempt, its retry, then slice 2: listed in (number, attempt) order.
        var failed = Self.completion(of: stored, number: 2, attempt: 1)
        failed.slice.outcome = .failed; failed.slice.exitCode = 3; failed.slice.cursorOut = nil
        failed.run = stored; failed.run.nextAttempt = 2; failed.run.failedAttempts = 1
        let afterFailure = try await store.finishSlice(failed)
        XCTAssertEqual(afterFailure.cursor, "b:57", "a failed slice never advances the cursor")
        let retried = Self.completion(of: afterFailure, number: 2, attempt: 2, status: .succeeded, cursorOut: nil)
        let finished = try await store.finishSlice(retried)
        XCTAssertEqual(finished.status, .succeeded)
        let all = try await store.slices(runId: "r_1").map { [$0.number, $0.attempt] }
        XCTAssertEqual(all, [[1, 1], [2, 1], [2, 2]])
    }

    func finishSliceOfAnUnknownRunLeavesNothingBehind() async throws {
        let store = try await open()
        let ghost = Self.created(Self.run("r_ghost"))
        await assertThrows(.notFound) { () throws(StoreError) in
            _ = try await store.finishSlice(Self.completion(of: ghost, items: ["a", "b"]))
        }
        let run = try await store.run(id: "r_ghost")
        let slices = try await store.slices(runId: "r_ghost")
        let items = try await store.items(runId: "r_ghost", status: nil)
        XCTAssertNil(run)
        XCTAssertEqual(slices, [])
        XCTAssertEqual(items, [])
    }

    /// The slice row is written first; an item that names no run then fails the write.
    /// Everything, the slice row included, must be rolled back.
    func finishSliceFailingMidwayLeavesNothingBehind() async throws {
        let store = try await open()
        let run = try await store.createRun(Self.run("r_1"))
        let started = Self.slice(of: run)
        try await store.startSlice(started, leaseExpiresAt: 9_000)
        var completion = Self.completion(of: run, items: ["a", "b"])
        completion.items.append(ItemRecord(runId: "r_ghost", slice: 1, itemId: "c", status: "failed"))
        await assertThrows(.notFound) { () throws(StoreError) in _ = try await store.finishSlice(completion) }

        let slices = try await store.slices(runId: "r_1")
        XCTAssertEqual(slices, [started], "the slice is still running")
        let items = try await store.items(runId: "r_1", status: nil)
        XCTAssertEqual(items, [])
        let ghostItems = try await store.items(runId: "r_ghost", status: nil)
        XCTAssertEqual(ghostItems, [])
        let after = try await store.run(id: "r_1")
        XCTAssertEqual(after?.cursor, nil)
        XCTAssertEqual(after?.nextSlice, 1)
        XCTAssertEqual(after?.slicesDone, 0)

        completion.items.removeLast()
        let stored = try await store.finishSlice(completion)
        XCTAssertEqual(stored.cursor, "b:57", "the same completion commits once it is valid")
    }

    func finishSliceKeepsACancelRequestedWhileTheSliceRan() async throws {
        let store = try await open()
        let run = try await store.createRun(Self.run("r_1"))
        try await store.startSlice(Self.slice(of: run), leaseExpiresAt: nil)
        _ = try await store.requestCancel(runId: "r_1", at: 2_100)
        let stored = try await store.finishSlice(Self.completion(of: run))
        XCTAssertTrue(stored.cancelRequested, "the completion was built from the run before the cancel")
    }

    func itemsKeepReportingOrderAndFilterByStatus() async throws {
        let store = try await open()
        let run = try await store.createRun(Self.run("r_1"))
        var first = Self.completion(of: run)
        first.items = [ItemRecord(runId: "r_1", slice: 1, itemId: "z", status: "succeeded"),
                       ItemRecord(runId: "r_1", slice: 1, itemId: "a", status: "failed", error: "provider 500"),
                       ItemRecord(runId: "r_1", slice: 1, itemId: "m", status: "skipped")]
        let afterFirst = try await store.finishSlice(first)
        var second = Self.completion(of: afterFirst, number: 2)
        second.items = [ItemRecord(runId: "r_1", slice: 2, itemId: "b", status: "failed", error: "timeout"),
                        ItemRecord(runId: "r_1", slice: 2, itemId: "a", status: "succeeded")]
        _ = try await store.finishSlice(second)

        let all = try await store.items(runId: "r_1", status: nil)
        XCTAssertEqual(all, first.items + second.items)
        let failed = try await store.items(runId: "r_1", status: "failed")
        XCTAssertEqual(failed, [first.items[1], second.items[0]])
        let none = try await store.items(runId: "r_1", status: "unknown")
        XCTAssertEqual(none, [])
    }

    // MARK: Lost slices

    func markSliceLostMarksTheRunningSliceAndWritesTheRun() async throws {
        let store = try await open()
        let run = try await store.createRun(Self.run("r_1"))
        let started = Self.slice(of: run)
        try await store.startSlice(started, leaseExpiresAt: 3_000)
        var repaired = run
        repaired.nextAttempt = 2; repaired.failedAttempts = 1; repaired.owner = "host-b:2"; repaired.updatedAt = 4_000
        let stored = try await store.markSliceLost(runId: "r_1", number: 1, attempt: 1, at: 4_000, run: repaired)
        XCTAssertEqual(stored, repaired)
        var lost = started
        lost.outcome = .lost; lost.finishedAt = 4_000
        let slices = try await store.slices(runId: "r_1")
        XCTAssertEqual(slices, [lost])

        // The old driver comes back and reports: refused, the repair stands.
        await assertThrows(.conflict) { () throws(StoreError) in _ = try await store.finishSlice(Self.completion(of: run)) }
        let after = try await store.run(id: "r_1")
        XCTAssertEqual(after, repaired)
        let stillLost = try await store.slices(runId: "r_1")
        XCTAssertEqual(stillLost, [lost])
    }

    func markSliceLostRefusesASliceThatIsNotRunning() async throws {
        let store = try await open()
        let run = try await store.createRun(Self.run("r_1"))
        let finished = try await store.finishSlice(Self.completion(of: run))
        var stale = run
        stale.error = "should not be written"
        await assertThrows(.conflict) { () throws(StoreError) in
            _ = try await store.markSliceLost(runId: "r_1", number: 1, attempt: 1, at: 4_000, run: stale)
        }
        await assertThrows(.notFound) { () throws(StoreError) in
            _ = try await store.markSliceLost(runId: "r_1", number: 9, attempt: 1, at: 4_000, run: stale)
        }
        let after = try await store.run(id: "r_1")
        XCTAssertEqual(after, finished)
    }

    // MARK: Several connections

    /// Two handles (two connections) drive a run each, interleaving their commits.
    func twoHandlesCommitSlicesConcurrently() async throws {
        let first = try await open(), second = try await open()
        let slicesPerRun = 60
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (store, id) in [(first, "r_1"), (second, "r_2")] {
                group.addTask {
                    var run = try await store.createRun(Self.run(id))
                    for n in 1...slicesPerRun {
                        try await store.startSlice(Self.slice(of: run, number: n), leaseExpiresAt: nil)
                        var completion = Self.completion(of: run, number: n, items: ["\(id)-\(n)"], cursorOut: "c:\(n)")
                        completion.slice.cursorIn = run.cursor
                        run = try await store.finishSlice(completion)
                    }
                }
            }
            try await group.waitForAll()
        }
        for (store, id) in [(second, "r_1"), (first, "r_2")] {
            let run = try await store.run(id: id)
            XCTAssertEqual(run?.cursor, "c:\(slicesPerRun)", "the other handle sees every commit")
            XCTAssertEqual(run?.slicesDone, slicesPerRun)
            XCTAssertEqual(run?.counts.processed, slicesPerRun)
            let slices = try await store.slices(runId: id)
            XCTAssertEqual(slices.map(\.number), Array(1...slicesPerRun))
            XCTAssertEqual(slices.map(\.cursorIn), [nil] + (1..<slicesPerRun).map { "c:\($0)" })
            let items = try await store.items(runId: id, status: nil)
            XCTAssertEqual(items.map(\.itemId), (1...slicesPerRun).map { "\(id)-\($0)" })
        }
    }

    /// Two handles race to claim the same free runs: each run gets exactly one owner.
    func concurrentClaimsGiveEachRunOneOwner() async throws {
        let first = try await open(), second = try await open()
        let ids = (1...40).map { "r_\($0)" }
        for id in ids { _ = try await first.createRun(Self.run(id)) }
        let won = try await withThrowingTaskGroup(of: [String: String].self) { group in
            for (store, owner) in [(first, "a:1"), (second, "b:2")] {
                group.addTask {
                    var mine: [String: String] = [:]
                    for id in ids {
                        if let claimed = try await store.claim(runId: id, owner: owner, now: 100, leaseExpiresAt: 1_000) {
                            mine[claimed.id] = claimed.owner
                        }
                    }
                    return mine
                }
            }
            return try await group.reduce(into: [[String: String]]()) { $0.append($1) }
        }
        XCTAssertEqual(won.map(\.count).reduce(0, +), ids.count, "no run is claimed twice, none is left out")
        for id in ids {
            let owner = try await second.run(id: id)?.owner
            XCTAssertEqual(owner, won.compactMap { $0[id] }.first, id)
        }
    }
}
