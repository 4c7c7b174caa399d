import BatonStore
import XCTest

/// The scheduler's queries (issue 12): answered from indexes, equal on every backend.
extension RunStoreConformance {
    /// Issue 12: a starting daemon learns which jobs have runs to drive without reading
    /// them (it read up to 100,000 rows): each job once, finished runs left out.
    func jobsWithUnfinishedRunsNamesEachOnce() async throws {
        let store = try await open()
        let none = try await store.jobsWithUnfinishedRuns()
        XCTAssertEqual(none, [])
        for i in 0..<50 { _ = try await store.createRun(Self.run("r_q\(i)", job: "backlog", createdAt: Int64(i), status: .queued)) }
        _ = try await store.createRun(Self.run("r_run", job: "busy", status: .running))
        _ = try await store.createRun(Self.run("r_ok", job: "idle", status: .succeeded))
        _ = try await store.createRun(Self.run("r_cancelled", job: "idle", status: .cancelled))
        _ = try await store.createRun(Self.run("r_a", job: "a-first", status: .queued))
        let names = try await store.jobsWithUnfinishedRuns()
        XCTAssertEqual(names, ["a-first", "backlog", "busy"])
    }

    /// Issue 12: overlap= judges a batch of fires against each job's oldest unfinished
    /// runs in one call (it read every unfinished run of every job).
    func unfinishedRunsOfSeveralJobsAreEachJobsOldest() async throws {
        let store = try await open()
        for i in 0..<5 { _ = try await store.createRun(Self.run("r_a\(i)", job: "a", createdAt: Int64(100 - i), status: .queued)) }
        _ = try await store.createRun(Self.run("r_b", job: "b", createdAt: 7, status: .running))
        _ = try await store.createRun(Self.run("r_bdone", job: "b", createdAt: 1, status: .failed))
        _ = try await store.createRun(Self.run("r_c", job: "c", createdAt: 7, status: .running))
        let got = try await store.unfinishedRuns(jobs: ["a", "b", "nothing", "a"], limit: 2)
        XCTAssertEqual(got.mapValues { $0.map(\.id) }, ["a": ["r_a4", "r_a3"], "b": ["r_b"]])
        let empty = try await store.unfinishedRuns(jobs: [], limit: 2)
        XCTAssertEqual(empty.count, 0)
    }

    /// Issue 12: a daemon sees a pause made by another process by reading what changed
    /// since it last looked, in commit order.
    func jobStatesAfterAVersionAreTheChangesSince() async throws {
        let store = try await open()
        let start = try await store.jobStates(after: 0)
        XCTAssertEqual(start.states.count, 0)
        try await store.setPaused(job: "a", paused: true, at: 1_000)
        try await store.setPaused(job: "b", paused: true, at: 1_000)
        let first = try await store.jobStates(after: start.version)
        XCTAssertEqual(first.states.mapValues(\.paused), ["a": true, "b": true])
        XCTAssertGreaterThan(first.version, start.version)
        let quiet = try await store.jobStates(after: first.version)
        XCTAssertEqual(quiet.states.count, 0)
        XCTAssertEqual(quiet.version, first.version)
        // Another handle (another process) unpauses b, with an older clock.
        let other = try await open()
        try await other.setPaused(job: "b", paused: false, at: 500)
        let later = try await store.jobStates(after: first.version)
        XCTAssertEqual(later.states.mapValues(\.paused), ["b": false])
        XCTAssertGreaterThan(later.version, first.version)
        let all = try await store.jobStates(after: 0)
        XCTAssertEqual(all.states.mapValues(\.paused), ["a": true, "b": false])
        XCTAssertEqual(all.version, later.version)
    }
}
