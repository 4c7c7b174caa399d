import BatonConfig
import BatonDaemon
import BatonEngine
import BatonStore
import BatonStoreSQLite
import BatonSupervisor
import Foundation
import Synchronization
import XCTest

/// The daemon's loop against a wall clock that jumps (an NTP step, a resume from
/// suspend, a clock set by hand), with a real store and real handlers. The wall clock is
/// the one input stepped here; the monotonic clock the loop sleeps on stays the real one.
final class ClockJumpTests: XCTestCase {
    final class Events: Sendable {
        let list = Mutex<[Scheduler.Event]>([])
        func add(_ e: Scheduler.Event) { list.withLock { $0.append(e) } }
        var jumps: [Int64] {
            list.withLock { $0.compactMap { if case let .clockJump(s) = $0 { s } else { nil } } }
        }
    }

    func testAJumpForwardFollowsMisfireAndAJumpBackNeverFiresTwice() async throws {
        try Supervisor.prepareProcess()  // as baton itself: SIGPIPE ignored, children reaped here
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("baton-clock-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/schedules", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "* * * * * * every-second misfire=once overlap=allow /bin/true\n"
            .write(toFile: dir + "/schedules/a.cron", atomically: true, encoding: .utf8)
        let set = ScheduleLoader().load(paths: [dir + "/schedules"])
        XCTAssertFalse(set.hasErrors)
        let store = try SQLiteRunStore(path: dir + "/state.db")
        let engine = RunEngine(store: store, environment: EngineEnvironment(variables: ["PATH": "/usr/bin:/bin"], workingDirectory: dir,
                                                                              owner: RunID.localOwner()))
        let offset = Atomic<Int64>(0)
        var options = Scheduler.Options(maxConcurrent: 4)
        options.wallClock = { Int64(Date().timeIntervalSince1970 * 1000) + offset.load(ordering: .relaxed) }
        let events = Events()
        let scheduler = Scheduler(engine: engine, set: set, options: options) { events.add($0) }
        let loop = Task { await scheduler.run() }

        func runs() async throws -> [RunRecord] { try await store.runs(job: "every-second", status: nil, limit: 10_000) }
        func wait(_ what: String, _ ok: () async throws -> Bool) async throws {
            let end = Date().addingTimeInterval(15)
            while Date() < end { if try await ok() { return }; try await Task.sleep(for: .milliseconds(50)) }
            XCTFail("timed out waiting for \(what)")
        }
        try await wait("two fires") { try await runs().count >= 2 }

        // Forward an hour: logged, and the missed hour is one catch-up run (misfire=once),
        // not 3,600 fires.
        let before = try await runs().count
        offset.store(3_600_000, ordering: .relaxed)
        try await wait("the jump forward to be noticed") { events.jumps.contains { $0 >= 3_590 } }
        try await wait("fires on the new time") { try await runs().contains { $0.scheduledAt > Int64(Date().timeIntervalSince1970 * 1000) + 3_000_000 } }
        let afterForward = try await runs()
        XCTAssertLessThan(afterForward.count - before, 10, "the jump fired the missed hour second by second")
        // misfire=once: of the hour's fires one runs (the latest, still on time), the rest
        // are dropped and reported.
        let dropped = events.list.withLock { $0.compactMap { if case let .misfire(_, d, _) = $0 { d } else { nil } } }
        XCTAssertTrue(dropped.contains { $0 >= 3_500 }, "misfire reports: \(dropped)")

        // Back to the real time: logged, and no fire time runs twice.
        offset.store(0, ordering: .relaxed)
        try await wait("the jump back to be noticed") { events.jumps.contains { $0 <= -3_590 } }
        let backAt = Int64(Date().timeIntervalSince1970)
        try await wait("fires again on the real time") { try await runs().contains { $0.scheduledAt / 1000 > backAt } }
        await scheduler.stop(hard: false)
        await loop.value
        let all = try await runs()
        XCTAssertEqual(Set(all.map(\.scheduledAt)).count, all.count, "a fire time ran twice")
    }
}
