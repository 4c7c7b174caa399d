import BatonStore
import XCTest

extension RunStoreConformance {
    static func intake(_ id: String, idem: String? = nil, sig: String? = nil, at: Int64 = 10_000,
                       refusal: String? = nil) -> RunIntake {
        var run = Self.run(id, createdAt: at)
        run.trigger = .webhook
        run.payload = #"{"n":1}"#
        return RunIntake(run: run, idempotencyKey: idem, replayKey: sig, idempotencyExpiresAt: at + 86_400_000,
                         replayExpiresAt: at + 600_000, refusal: refusal)
    }

    /// A group of requests is recorded together; a repeated idempotency key finds the
    /// first run, a repeated signature is a replay, in the same group or a later one,
    /// and across a second handle (a restart).
    func createRunsHonoursIdempotencyAndReplayKeys() async throws {
        let store = try await open()
        let first = try await store.createRuns([
            Self.intake("r_1", idem: "k1", sig: "s1"),
            Self.intake("r_2", sig: "s2"),
            Self.intake("r_3", sig: "s2"),            // the same signed request again: replay
            Self.intake("r_4", idem: "k1", sig: "s4"), // the same key again: the first run
        ], at: 10_000)
        XCTAssertEqual(first.count, 4)
        guard case let .created(r1) = first[0], case .created = first[1] else { return XCTFail("\(first)") }
        XCTAssertEqual(r1, Self.created(Self.intake("r_1").run))
        XCTAssertEqual(first[2], .replay)
        XCTAssertEqual(first[3], .existing(runId: "r_1"))
        let again = try await open()
        let later = try await again.createRuns([Self.intake("r_5", idem: "k1"), Self.intake("r_6", sig: "s1"),
                                                Self.intake("r_7", sig: "s7")], at: 20_000)
        XCTAssertEqual(later[0], .existing(runId: "r_1"))
        XCTAssertEqual(later[1], .replay)
        guard case .created = later[2] else { return XCTFail("\(later)") }
        let ids = Set(try await again.runs(job: Self.job, status: nil, limit: 100).map(\.id))
        XCTAssertEqual(ids, ["r_1", "r_2", "r_7"])
        // A seen signature is a replay under any other idempotency key; with the key of
        // the call it started, it finds that call's run. Signatures are remembered per
        // scope (an endpoint): the same one elsewhere is not a replay there.
        var elsewhere = Self.intake("r_8", sig: "s1")
        elsewhere.replayScope = "POST /hooks/another-job"
        let third = try await again.createRuns([Self.intake("r_9", idem: "fresh", sig: "s1"),
                                                Self.intake("r_10", idem: "k1", sig: "s1"), elsewhere], at: 30_000)
        XCTAssertEqual(third[0], .replay)
        XCTAssertEqual(third[1], .existing(runId: "r_1"))
        guard case .created = third[2] else { return XCTFail("\(third)") }
    }

    /// Keys are forgotten when they expire; a refused intake writes nothing, yet still
    /// finds its first run by key.
    func createRunsForgetsExpiredKeysAndWritesNothingWhenRefused() async throws {
        let store = try await open()
        _ = try await store.createRuns([Self.intake("r_1", idem: "k", sig: "s")], at: 10_000)
        let refused = try await store.createRuns([Self.intake("r_2", sig: "t", refusal: "busy"),
                                                  Self.intake("r_3", idem: "k", refusal: "busy")], at: 11_000)
        XCTAssertEqual(refused, [.refused("busy"), .existing(runId: "r_1")])
        let notWritten = try await store.run(id: "r_2")
        XCTAssertNil(notWritten)
        // The refused request left no replay key: sent again once allowed, it starts.
        let resent = try await store.createRuns([Self.intake("r_4", sig: "t")], at: 12_000)
        guard case .created = resent[0] else {
            return XCTFail("a refused request must not be remembered")
        }
        // Past both windows (24 h, 10 min) the keys are gone.
        let late = try await store.createRuns([Self.intake("r_5", idem: "k"), Self.intake("r_6", sig: "s")],
                                              at: 10_000 + 86_400_000 + 1)
        guard case .created = late[0], case .created = late[1] else { return XCTFail("\(late)") }
    }
}

extension RunStoreConformance {
    /// Drivers take a job's unfinished runs oldest first, whatever their number; finished
    /// runs and other jobs' runs are not among them.
    func unfinishedRunsAreTheJobsRunningAndQueuedOldestFirst() async throws {
        let store = try await open()
        for i in 0..<150 { _ = try await store.createRun(Self.run(String(format: "r_%03d", i), createdAt: Int64(1_000 + i))) }
        _ = try await store.createRun(Self.run("r_queued", createdAt: 500, status: .queued))
        _ = try await store.createRun(Self.run("r_other", job: "other", createdAt: 1))
        _ = try await store.createRun(Self.run("r_done", createdAt: 2))
        try await Self.end(store, "r_done", .succeeded, at: 3)
        let first = try await store.unfinishedRuns(job: Self.job, limit: 3)
        XCTAssertEqual(first.map(\.id), ["r_queued", "r_000", "r_001"])
        let all = try await store.unfinishedRuns(job: Self.job, limit: 1000)
        XCTAssertEqual(all.count, 151)
        XCTAssertEqual(all.last?.id, "r_149")
    }
}

extension RunStoreConformance {
    /// A lock has one live holder: an unfinished run whose lock has not expired. Another
    /// run gets it once the holder lets go, finishes, or stops renewing.
    func locksHaveOneLiveHolder() async throws {
        let store = try await open()
        _ = try await store.createRun(Self.run("r_a"))
        _ = try await store.createRun(Self.run("r_b"))
        let firstA = try await store.acquireLock(name: "db", runId: "r_a", owner: "host:1", leaseMs: 60_000)
        XCTAssertNil(firstA)
        let firstB = try await store.acquireLock(name: "db", runId: "r_b", owner: "host:2", leaseMs: 60_000)
        XCTAssertEqual(firstB, "r_a")
        let again = try await store.acquireLock(name: "db", runId: "r_a", owner: "host:1", leaseMs: 60_000)
        XCTAssertNil(again, "the holder takes it again")
        let other = try await store.acquireLock(name: "other", runId: "r_b", owner: "host:2", leaseMs: 60_000)
        XCTAssertNil(other, "locks are independent by name")
        // Renewed: r_a still holds it.
        try await store.renewLocks(owner: "host:1", leaseMs: 60_000)
        let renewed = try await store.acquireLock(name: "db", runId: "r_b", owner: "host:2", leaseMs: 60_000)
        XCTAssertEqual(renewed, "r_a")
        // Expired by the store's clock (a renewal whose lease is already over: as if the
        // holder had stopped renewing a minute ago): r_b takes it.
        try await store.renewLocks(owner: "host:1", leaseMs: -1)
        let expired = try await store.acquireLock(name: "db", runId: "r_b", owner: "host:2", leaseMs: 60_000)
        XCTAssertNil(expired)
        // Released: r_a takes it back at once.
        try await store.releaseLock(name: "db", runId: "r_b")
        let released = try await store.acquireLock(name: "db", runId: "r_a", owner: "host:1", leaseMs: 60_000)
        XCTAssertNil(released)
        // The holder's run finished: the lock is free though not released.
        try await Self.end(store, "r_a", .failed, at: 133_000)
        let afterFinish = try await store.acquireLock(name: "db", runId: "r_b", owner: "host:2", leaseMs: 60_000)
        XCTAssertNil(afterFinish)
    }
}

extension RunStoreConformance {
    /// Each job's newest run, in one call; jobs without runs are absent.
    func latestRunsAreEachJobsNewest() async throws {
        let store = try await open()
        _ = try await store.createRun(Self.run("r_a1", job: "a", createdAt: 1_000))
        _ = try await store.createRun(Self.run("r_a2", job: "a", createdAt: 2_000))
        _ = try await store.createRun(Self.run("r_b1", job: "b", createdAt: 1_500))
        let latest = try await store.latestRuns(jobs: ["a", "b", "c"])
        XCTAssertEqual(latest.mapValues(\.id), ["a": "r_a2", "b": "r_b1"])
        // With a status: each job's newest run of that status (the last success).
        _ = try await store.createRun(Self.run("r_a3", job: "a", createdAt: 3_000, status: .succeeded))
        _ = try await store.createRun(Self.run("r_a4", job: "a", createdAt: 4_000, status: .failed))
        let succeeded = try await store.latestRuns(jobs: ["a", "b"], status: .succeeded)
        XCTAssertEqual(succeeded.mapValues(\.id), ["a": "r_a3"])
    }

    /// The webhook intake's backlog check: a bounded count of one status.
    func countRunsCountsOneStatusUpToItsBound() async throws {
        let store = try await open()
        for i in 0..<7 { _ = try await store.createRun(Self.run("r_q\(i)", status: .queued)) }
        _ = try await store.createRun(Self.run("r_r", status: .running))
        let all = try await store.countRuns(status: .queued, upTo: 100)
        XCTAssertEqual(all, 7)
        let bounded = try await store.countRuns(status: .queued, upTo: 5)
        XCTAssertEqual(bounded, 5, "counting stops at the bound")
        let none = try await store.countRuns(status: .failed, upTo: 100)
        XCTAssertEqual(none, 0)
    }
}
