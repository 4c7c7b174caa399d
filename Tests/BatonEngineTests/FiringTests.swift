import BatonCore
import BatonEngine
import BatonStore
import BatonStoreSQLite
import Foundation
import XCTest

/// Fires as two processes on one store see them (two connections, two owners).
final class FiringTests: XCTestCase {
    var fx: EngineFixture!
    override func setUp() async throws { fx = try EngineFixture() }
    override func tearDown() async throws { fx.cleanUp() }

    func job(_ line: String) -> Job {
        let file = ScheduleFileParser(path: "t.cron").parse(line + "\n")
        XCTAssertTrue(file.problems.isEmpty, "\(file.problems)")
        return file.jobs[0]
    }

    /// Issue 12: overlap=replace cancelled the job's runs before it knew it had won the
    /// fire, so a daemon that lost the fire to another cancelled the run the winner had
    /// just started (two daemons would cancel each other).
    func testAFireLostToAnotherProcessCancelsNothing() async throws {
        let replace = job("* * * * * * swap overlap=replace /bin/true")
        let other = try SQLiteRunStore(path: fx.dir + "/state.db")
        let a = fx.engine()
        let b = RunEngine(store: other, environment: EngineEnvironment(variables: [:], workingDirectory: fx.dir, owner: "elsewhere:1"))
        let old = try await a.fire(replace, at: 1_000, kind: .cron)
        guard case let .started(r0) = old else { return XCTFail("\(old)") }

        let won = try await a.fire(replace, at: 1_001, kind: .cron)
        guard case let .started(r1) = won else { return XCTFail("\(won)") }
        let r0After = try await fx.store.run(id: r0.id)
        XCTAssertEqual(r0After?.cancelRequested, true, "the winner replaces the old run")

        let lost = try await b.fire(replace, at: 1_001, kind: .cron)
        XCTAssertEqual(lost, .duplicate)
        let r1After = try await fx.store.run(id: r1.id)
        XCTAssertEqual(r1After?.cancelRequested, false, "the loser cancelled the winner's new run")
    }

    /// A fire that may start now claims its run (held by the firing process, epoch 1);
    /// one that waits is recorded queued and unowned, for whoever drives the job's runs.
    /// Neither has a slice start recorded with it.
    func testFiredRunsAreHeldWhenTheyStartAndUnownedWhenQueued() async throws {
        let queue = job("* * * * * * q overlap=queue /bin/true")
        let e = fx.engine()
        let results = try await e.fireAll([DueFire(job: queue, at: 2_000, kind: .cron), DueFire(job: queue, at: 2_001, kind: .cron)])
        guard case let .started(first) = results[0], case let .queued(second) = results[1] else { return XCTFail("\(results)") }
        for (id, status, owner, epoch) in [(first.id, RunStatus.running, Optional(e.environment.owner), Int64(1)),
                                           (second.id, .queued, nil, 0)] {
            let stored = try await fx.store.run(id: id)
            XCTAssertEqual(stored?.status, status)
            XCTAssertEqual(stored?.owner, owner)
            XCTAssertEqual(stored?.epoch, epoch)
            if owner != nil { XCTAssertNotNil(stored?.leaseExpiresAt, "held under a lease from the store's clock") }
            let slices = try await fx.store.slices(runId: id)
            XCTAssertEqual(slices.count, 0, "a start recorded with the fire")
        }
    }
}
