import BatonStore
import XCTest

/// Fencing: every claim raises the epoch, and every write made under an older lease is
/// refused with `.fenced` and changes nothing. Races between handles (two processes on
/// SQLite, two daemons on PostgreSQL) have one winner.
extension RunStoreConformance {
    /// Claims `id` for `owner` as soon as its lease has run out by the store's clock
    /// (polled every 5 ms, at most 5 s): a lease of a few milliseconds expires on its own.
    static func claimOnceExpired(_ store: any RunStore, _ id: String, owner: String,
                                 leaseMs: Int64 = 60_000) async throws -> RunRecord? {
        let end = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < end {
            if let r = try await store.claim(runId: id, owner: owner, leaseMs: leaseMs, replacing: nil) { return r }
            try await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    func claimRaisesTheEpochAndTakesFreeOwnExpiredOrDeadRunsOnly() async throws {
        let store = try await open()
        _ = try await store.createRun(Self.run("r_1"))
        let free = try await store.claim(runId: "r_1", owner: "a:1", leaseMs: 60_000, replacing: nil)
        XCTAssertEqual(free?.owner, "a:1")
        XCTAssertEqual(free?.epoch, 1)
        let lease = try XCTUnwrap(free?.leaseExpiresAt)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        XCTAssertEqual(Double(lease - now), 60_000, accuracy: 5_000, "the lease runs from the store's clock")
        let held = try await store.claim(runId: "r_1", owner: "b:2", leaseMs: 60_000, replacing: nil)
        XCTAssertNil(held, "a live lease keeps the run")
        let wrongDead = try await store.claim(runId: "r_1", owner: "b:2", leaseMs: 60_000, replacing: "c:3")
        XCTAssertNil(wrongDead, "replacing names the holder the caller found dead, no other")
        let again = try await store.claim(runId: "r_1", owner: "a:1", leaseMs: 60_000, replacing: nil)
        XCTAssertEqual(again?.epoch, 2, "even its own holder's claim raises the epoch")
        let dead = try await store.claim(runId: "r_1", owner: "b:2", leaseMs: 1, replacing: "a:1")
        XCTAssertEqual(dead?.owner, "b:2")
        XCTAssertEqual(dead?.epoch, 3)
        // The claimer's own lease is longer than the store has been up (a database
        // server started a minute ago): the holder's 1 ms lease decides when it ran out.
        let expired = try await Self.claimOnceExpired(store, "r_1", owner: "c:3", leaseMs: 10 * 365 * 86_400_000)
        XCTAssertEqual(expired?.owner, "c:3")
        XCTAssertEqual(expired?.epoch, 4)
        let missing = try await store.claim(runId: "r_missing", owner: "a:1", leaseMs: 1, replacing: nil)
        XCTAssertNil(missing)
    }

    /// The stale owner: once another process took the run over, every write it makes
    /// is refused (`.fenced`) and nothing of it is visible.
    func everyWriteOfAStaleOwnerIsRefused() async throws {
        let store = try await open()
        let (run, old) = try await Self.held(store, "r_1", owner: "a:1", leaseMs: 1)
        let started = try await store.startSlice(old, Self.start(run), leaseMs: 1)
        let taken = try XCTUnwrapAsync(try await Self.claimOnceExpired(store, "r_1", owner: "b:2"))
        XCTAssertEqual(taken.epoch, old.epoch + 1)
        let before = try await store.run(id: "r_1")
        let slicesBefore = try await store.slices(runId: "r_1")

        await assertThrows(.fenced) { () throws(StoreError) in _ = try await store.renew(old, leaseMs: 60_000) }
        let e = await assertThrows(.fenced) { () throws(StoreError) in
            _ = try await store.commitSlice(old, Self.commit(of: started, items: ["x"], owner: "a:1"))
        }
        XCTAssertTrue(e?.message.contains("b:2") == true, e?.message ?? "")
        await assertThrows(.fenced) { () throws(StoreError) in
            _ = try await store.markSliceLost(old, number: 1, attempt: 1, at: 3_000)
        }
        await assertThrows(.fenced) { () throws(StoreError) in
            _ = try await store.endRun(old, status: .cancelled, error: "stale", at: 3_000)
        }
        await assertThrows(.fenced) { () throws(StoreError) in _ = try await store.reopen(old, at: 3_000) }
        await assertThrows(.fenced) { () throws(StoreError) in
            _ = try await store.startSlice(old, Self.start(started), leaseMs: 60_000)
        }
        let released = try await store.release(old)
        XCTAssertFalse(released)

        let after = try await store.run(id: "r_1")
        XCTAssertEqual(after, before, "no refused write changed the run")
        let slicesAfter = try await store.slices(runId: "r_1")
        XCTAssertEqual(slicesAfter, slicesBefore)
        let items = try await store.items(runId: "r_1", status: nil)
        XCTAssertEqual(items, [])
    }

    /// A takeover in the instant between a slice's commit and the next start (a backend
    /// may answer that start without a round trip): the stale start is refused by the
    /// start or at the latest by the commit that follows, and writes nothing.
    func aStartRightAfterATakeoverIsRefused() async throws {
        let a = try await open(), b = try await open()
        let (run, old) = try await Self.held(a, "r_1", owner: "a:1")
        _ = try await a.startSlice(old, Self.start(run), leaseMs: 60_000)
        let committed = try await a.commitSlice(old, Self.commit(of: run, owner: "a:1"))
        _ = try XCTUnwrapAsync(try await b.claim(runId: "r_1", owner: "b:2", leaseMs: 60_000, replacing: "a:1"))
        let startResult: Result<RunRecord, StoreError>
        do throws(StoreError) {
            startResult = .success(try await a.startSlice(old, Self.start(committed), leaseMs: 60_000))
        } catch {
            startResult = .failure(error)
        }
        switch startResult {
        case let .success(started):
            await assertThrows(.fenced) { () throws(StoreError) in
                _ = try await a.commitSlice(old, Self.commit(of: started, owner: "a:1"))
            }
        case let .failure(error):
            XCTAssertEqual(error.kind, .fenced)
        }
        let slices = try await b.slices(runId: "r_1").map { "\($0.number).\($0.attempt) \($0.outcome.rawValue)" }
        XCTAssertEqual(slices, ["1.1 succeeded"], "the stale start wrote nothing")
        let now = try await b.run(id: "r_1")
        XCTAssertEqual(now?.owner, "b:2")
        XCTAssertEqual(now?.slicesDone, 1)
    }

    /// A takeover while a slice is in flight: the new holder marks it lost and runs the
    /// next attempt with the same cursor; the old holder's commit of it is refused.
    func takeoverWhileASliceIsInFlight() async throws {
        let a = try await open(), b = try await open()
        let (run, old) = try await Self.held(a, "r_1", owner: "a:1", leaseMs: 1)
        let inFlight = try await a.startSlice(old, Self.start(run), leaseMs: 1)
        let taken = try XCTUnwrapAsync(try await Self.claimOnceExpired(b, "r_1", owner: "b:2"))
        let lease = try XCTUnwrap(Lease(taken))
        let repaired = try await b.markSliceLost(lease, number: 1, attempt: 1, at: 3_000)
        XCTAssertEqual(repaired.nextAttempt, 2)
        await assertThrows(.fenced) { () throws(StoreError) in
            _ = try await a.commitSlice(old, Self.commit(of: inFlight, owner: "a:1"))
        }
        _ = try await b.startSlice(lease, Self.start(repaired), leaseMs: 60_000)
        let done = try await b.commitSlice(lease, Self.commit(of: repaired, status: .succeeded, owner: "b:2"))
        XCTAssertEqual(done.status, .succeeded)
        let slices = try await a.slices(runId: "r_1").map { "\($0.number).\($0.attempt) \($0.outcome.rawValue) \($0.owner ?? "-")" }
        XCTAssertEqual(slices, ["1.1 lost a:1", "1.2 succeeded b:2"])
    }

    /// Two handles race for one expired lease, many times: exactly one wins each time,
    /// and the loser's writes are refused.
    func twoHandlesRaceForOneExpiredLease() async throws {
        let a = try await open(), b = try await open()
        for i in 0..<20 {
            let id = "r_\(i)"
            _ = try await Self.held(a, id, owner: "dead:0", leaseMs: 1)
            // Race until the lease has run out and one of them takes it: never both.
            var winners: [RunRecord] = []
            let end = ContinuousClock.now + .seconds(5)
            while winners.isEmpty && ContinuousClock.now < end {
                async let x = a.claim(runId: id, owner: "a:1", leaseMs: 60_000, replacing: nil)
                async let y = b.claim(runId: id, owner: "b:2", leaseMs: 60_000, replacing: nil)
                winners = [try await x, try await y].compactMap { $0 }
            }
            XCTAssertEqual(winners.count, 1, "run \(id): \(winners.map { $0.owner ?? "-" })")
            let stored = try await a.run(id: id)
            XCTAssertEqual(stored?.owner, winners.first?.owner)
            XCTAssertEqual(stored?.epoch, 2)
        }
    }

    /// Two handles race to record the same fires: each is recorded once, with one run.
    func twoHandlesRaceForOneFire() async throws {
        let a = try await open(), b = try await open()
        let fires = (0..<30).map { i in
            FireRecord(job: "tick", scheduledAt: Int64(i) * 60_000, kind: .cron, run: Self.run("r_\(i)", job: "tick"))
        }
        let other = fires.map { f in
            FireRecord(job: f.job, scheduledAt: f.scheduledAt, kind: .cron, run: Self.run(f.run!.id + "_b", job: "tick"))
        }
        async let x = a.recordFires(fires, at: 5_000)
        async let y = b.recordFires(other, at: 5_000)
        let (wonA, wonB) = (try await x, try await y)
        for i in 0..<30 { XCTAssertNotEqual(wonA[i], wonB[i], "fire \(i) recorded by exactly one") }
        let runs = try await a.runs(job: "tick", status: nil, limit: 1_000)
        XCTAssertEqual(runs.count, 30, "one run per fire")
        let last = try await b.lastFires()
        XCTAssertEqual(last["tick"], 29 * 60_000)
        let lastOne = try await b.lastFire(job: "tick")
        XCTAssertEqual(lastOne, 29 * 60_000)
        let none = try await b.lastFire(job: "nope")
        XCTAssertNil(none)
        let skipped = try await a.recordFires([FireRecord(job: "tick", scheduledAt: 99 * 60_000, kind: .skipped, run: nil)], at: 6_000)
        XCTAssertEqual(skipped, [true], "a skipped fire is recorded too, without a run")
        let again = try await b.recordFires([FireRecord(job: "tick", scheduledAt: 99 * 60_000, kind: .cron, run: Self.run("r_x", job: "tick"))], at: 6_000)
        XCTAssertEqual(again, [false])
        let ghost = try await a.run(id: "r_x")
        XCTAssertNil(ghost, "a fire recorded elsewhere writes no run here")
    }

    /// Two handles race for one lock= many times: one holder each time.
    func twoHandlesRaceForOneLock() async throws {
        let a = try await open(), b = try await open()
        for i in 0..<20 {
            _ = try await a.createRun(Self.run("r_a\(i)"))
            _ = try await a.createRun(Self.run("r_b\(i)"))
            async let x = a.acquireLock(name: "db\(i)", runId: "r_a\(i)", owner: "a:1", leaseMs: 100_000)
            async let y = b.acquireLock(name: "db\(i)", runId: "r_b\(i)", owner: "b:2", leaseMs: 100_000)
            let (hx, hy) = (try await x, try await y)
            XCTAssertTrue((hx == nil) != (hy == nil), "lock \(i): exactly one holder (\(hx ?? "-"), \(hy ?? "-"))")
        }
    }

    func rememberRequestRefusesAReplayUntilItExpires() async throws {
        let store = try await open()
        let first = try await store.rememberRequest(signature: "sig1", scope: "POST /runs/r_1/cancel", at: 1_000, expiresAt: 2_000)
        XCTAssertTrue(first)
        let replay = try await store.rememberRequest(signature: "sig1", scope: "POST /runs/r_1/cancel", at: 1_500, expiresAt: 2_500)
        XCTAssertFalse(replay)
        let elsewhere = try await store.rememberRequest(signature: "sig1", scope: "POST /runs/r_2/cancel", at: 1_500, expiresAt: 2_500)
        XCTAssertTrue(elsewhere, "a signature is remembered per endpoint")
        let expired = try await store.rememberRequest(signature: "sig1", scope: "POST /runs/r_1/cancel", at: 2_000, expiresAt: 3_000)
        XCTAssertTrue(expired)
    }

    func watchNamesCancelledAndLostRuns() async throws {
        let store = try await open()
        var leases: [Lease] = []
        for id in ["r_1", "r_2", "r_3"] { leases.append(try await Self.held(store, id).1) }
        _ = try await store.requestCancel(runId: "r_2", at: 2_000)
        _ = try await store.claim(runId: "r_3", owner: "b:2", leaseMs: 60_000, replacing: Self.owner)
        let ghost = Lease(runId: "r_missing", owner: Self.owner, epoch: 1)
        let seen = try await store.watch(leases + [ghost])
        XCTAssertEqual(seen.cancelRequested, ["r_2"])
        XCTAssertEqual(Set(seen.lost.keys), ["r_3", "r_missing"])
        XCTAssertEqual(seen.lost["r_3"]?.kind, .fenced)
        XCTAssertEqual(seen.lost["r_missing"]?.kind, .notFound)
        let none = try await store.watch([])
        XCTAssertEqual(none, RunWatch())
    }

    /// Many commits on one handle at once (a backend may group them into one
    /// transaction): each gets its own answer; a stale one is refused alone.
    func concurrentCommitsOnOneHandleEachGetTheirOwnAnswer() async throws {
        let store = try await open(), other = try await open()
        var started: [(RunRecord, Lease)] = []
        for i in 0..<20 {
            let (run, lease) = try await Self.held(store, "r_\(i)", owner: "a:1")
            started.append((try await store.startSlice(lease, Self.start(run), leaseMs: 60_000), lease))
        }
        _ = try await other.claim(runId: "r_7", owner: "b:2", leaseMs: 60_000, replacing: "a:1")
        let answers = await withTaskGroup(of: (String, StoreError.Kind?).self) { group in
            for (run, lease) in started {
                group.addTask {
                    do throws(StoreError) {
                        _ = try await store.commitSlice(lease, Self.commit(of: run, items: [run.id], cursorOut: "c-\(run.id)", owner: "a:1"))
                        return (run.id, nil)
                    } catch {
                        return (run.id, error.kind)
                    }
                }
            }
            return await group.reduce(into: [String: StoreError.Kind?]()) { $0[$1.0] = $1.1 }
        }
        for i in 0..<20 {
            let id = "r_\(i)"
            let stored = try await other.run(id: id)
            if i == 7 {
                XCTAssertEqual(answers[id] ?? nil, .fenced)
                XCTAssertNil(stored?.cursor, "the refused commit wrote nothing")
                let items = try await other.items(runId: id, status: nil)
                XCTAssertEqual(items, [])
            } else {
                XCTAssertEqual(answers[id] ?? .conflict, nil, id)
                XCTAssertEqual(stored?.cursor, "c-\(id)")
                let items = try await other.items(runId: id, status: nil)
                XCTAssertEqual(items.map(\.itemId), [id])
            }
        }
    }
}
