import BatonCore
import BatonEngine
import BatonStore
import BatonStoreSQLite
import Foundation
import XCTest

/// A drive that loses its run to another process (the store's epoch moved on) stops:
/// its handler is killed, its writes are refused, and nothing it did afterwards shows.
final class FencingTests: XCTestCase {
    func testADriveTakenOverMidSliceKillsItsHandlerAndCommitsNothing() async throws {
        let f = try EngineFixture()
        defer { f.cleanUp() }
        // Each slice notes its start, sleeps 3 s, then notes its end: a killed slice has
        // a start and no end.
        let handler = try f.script("slow.sh", """
            echo "start $BATON_SLICE.$BATON_ATTEMPT" >> \(f.dir)/ledger
            sleep 3
            echo "end $BATON_SLICE.$BATON_ATTEMPT" >> \(f.dir)/ledger
            echo '{"cursor":"x","has_more":true}'
            """)
        let job = f.job([handler]) { $0.budget = .seconds(30) }
        let engine = RunEngine(store: f.store, environment: EngineEnvironment(
            variables: ["PATH": "/usr/bin:/bin"], workingDirectory: f.dir, owner: RunID.localOwner(), leaseMs: 60_000))
        let run = try await engine.createRun(job: job, trigger: .manual)
        let drive = Task { try await engine.drive(runId: run.id, job: job, claimed: run) }
        // Once the slice has started, another process takes the run over, as one does
        // when this driver's holder is gone.
        let deadline = ContinuousClock.now + .seconds(10)
        while !f.read("ledger").contains("start 1.1") && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let other = try SQLiteRunStore(path: f.dir + "/state.db")
        let taken = try await other.claim(runId: run.id, owner: "other-host:1:1", leaseMs: 60_000, replacing: RunID.localOwner())
        XCTAssertEqual(taken?.epoch, 2)
        let t0 = ContinuousClock.now
        do {
            _ = try await drive.value
            XCTFail("the drive went on after losing its run")
        } catch let error as EngineError {
            guard case let .lost(id, storeError) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(id, run.id)
            XCTAssertEqual(storeError.kind, .fenced)
            XCTAssertTrue(error.description.contains("other-host:1:1"), error.description)
        }
        XCTAssertLessThan(ContinuousClock.now - t0, .seconds(2), "the watch saw the lost lease and killed the slice")
        XCTAssertFalse(f.read("ledger").contains("end 1.1"), "the handler was killed, not left to finish")
        let stored = try await other.run(id: run.id)
        XCTAssertEqual(stored?.owner, "other-host:1:1")
        XCTAssertEqual(stored?.epoch, 2)
        XCTAssertNil(stored?.cursor, "nothing the old driver did is committed")
        XCTAssertEqual(stored?.slicesDone, 0)
        let slices = try await other.slices(runId: run.id)
        XCTAssertEqual(slices.map(\.outcome), [.running], "its slice stays running for the new owner to mark lost")
    }
}
