import BatonConfig
import BatonCore
import BatonDaemon
import BatonEngine
import BatonStore
import BatonStoreSQLite
import BatonSupervisor
import Foundation
import Synchronization
import XCTest

/// The daemon's loop with a real store and real handlers: what two daemons and a
/// restart agree on (issue 12).
final class SchedulerTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        try Supervisor.prepareProcess()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("baton-sched-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/schedules", withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    final class Events: Sendable {
        let list = Mutex<[Scheduler.Event]>([])
        func add(_ e: Scheduler.Event) { list.withLock { $0.append(e) } }
        var misfires: [Int] { list.withLock { $0.compactMap { if case let .misfire(_, d, _) = $0 { d } else { nil } } } }
    }

    func scheduler(_ line: String, owner: String, wallOffset: Int64 = 0, events: Events = Events()) throws -> (Scheduler, SQLiteRunStore) {
        try (line + "\n").write(toFile: dir + "/schedules/a.cron", atomically: true, encoding: .utf8)
        let set = ScheduleLoader().load(paths: [dir + "/schedules"])
        XCTAssertFalse(set.hasErrors)
        let store = try SQLiteRunStore(path: dir + "/state.db")
        let engine = RunEngine(store: store, environment: EngineEnvironment(variables: ["PATH": "/usr/bin:/bin"], workingDirectory: dir,
                                                                              owner: owner))
        var options = Scheduler.Options(maxConcurrent: 4)
        options.wallClock = { Int64(Date().timeIntervalSince1970 * 1000) + wallOffset }
        return (Scheduler(engine: engine, set: set, options: options) { events.add($0) }, store)
    }

    func wait(_ what: String, seconds: Double = 20, _ ok: () async throws -> Bool) async throws {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end { if try await ok() { return }; try await Task.sleep(for: .milliseconds(50)) }
        XCTFail("timed out waiting for \(what)")
    }

    /// Issue 12: @every was anchored to each process's start, so two daemons on one store
    /// fired the same job at different times (twice per period), and a restart moved it.
    func testTwoDaemonsFireAnEveryJobOnTheSameSecondsOnce() async throws {
        let line = "@every 2s pair overlap=allow /bin/true"
        let (a, store) = try scheduler(line, owner: "host-a:1")
        let loopA = Task { await a.run() }
        func runs() async throws -> [RunRecord] { try await store.runs(job: "pair", status: nil, limit: 1000) }
        try await wait("a first fire") { try await runs().count >= 1 }
        // The second daemon starts a second later in the period than the first.
        let firstAt = try await runs()[0].createdAt
        try await wait("a moment past the first fire") { Int64(Date().timeIntervalSince1970 * 1000) > firstAt + 900 }
        let (b, _) = try scheduler(line, owner: "host-b:2")
        let loopB = Task { await b.run() }
        let since = Int64(Date().timeIntervalSince1970 * 1000)
        try await wait("four fires with both daemons up") { try await runs().filter { $0.scheduledAt > since }.count >= 4 }
        await a.stop(hard: false); await b.stop(hard: false)
        await loopA.value; await loopB.value
        let all = try await runs()
        XCTAssertEqual(Set(all.map(\.scheduledAt)).count, all.count, "a fire ran twice")
        XCTAssertTrue(all.allSatisfy { $0.scheduledAt % 2000 == 0 }, "fires off the 2 s grid: \(all.map(\.scheduledAt))")
        let late = all.filter { $0.scheduledAt > since }.map(\.scheduledAt).sorted()
        XCTAssertEqual(zip(late, late.dropFirst()).map { $1 - $0 }, Array(repeating: 2000, count: late.count - 1),
                       "two daemons fired the job more often than every 2 s")
    }

    /// Issue 12: after a restart the daemon dropped a fire a few seconds old under
    /// misfire=skip (its window was 2 s) where `tick` ran it (60 s). A fire under a minute
    /// late is on time for both.
    func testARestartRunsAFireUnderAMinuteOldAsOnTime() async throws {
        // The loop's wall clock reads 30 s past a minute, whatever the real time.
        let real = Int64(Date().timeIntervalSince1970)
        let offset = ((30 - real % 60) + 60) % 60 * 1000
        let events = Events()
        let (s, store) = try scheduler("* * * * * minutely misfire=skip /bin/true", owner: "host-a:1", wallOffset: offset, events: events)
        let now = real + offset / 1000
        let minute = now - now % 60
        // It last fired an hour ago: everything since was missed, but the latest fire is 30 s old.
        _ = try await store.recordFires([FireRecord(job: "minutely", scheduledAt: (minute - 3600) * 1000, kind: .cron, run: nil)], at: 0)
        let loop = Task { await s.run() }
        func runs() async throws -> [RunRecord] { try await store.runs(job: "minutely", status: nil, limit: 10) }
        try await wait("the on-time fire") { try await runs().contains { $0.scheduledAt == minute * 1000 } }
        await s.stop(hard: false)
        await loop.value
        let run = try await runs().first { $0.scheduledAt == minute * 1000 }
        XCTAssertEqual(run?.trigger, .cron)
        XCTAssertEqual(events.misfires, [59], "the missed fires before it are dropped and counted")
    }
}
