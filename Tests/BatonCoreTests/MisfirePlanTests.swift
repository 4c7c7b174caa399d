import BatonCore
import XCTest

/// What is due after baton was down, per misfire policy, for cron and @every jobs.
final class MisfirePlanTests: XCTestCase {
    let hourly = try! Schedule("0 * * * *")
    let t0 = instant("2026-11-25T10:00:00Z")

    func plan(_ s: Schedule, _ p: MisfirePolicy, last: Int64?, now: Int64) -> MisfirePlan {
        MisfirePlan.plan(s, zone: .utc, policy: p, lastFire: last, now: now)
    }

    func testAnOnTimeFireIsDueUnderEveryPolicy() {
        for p in MisfirePolicy.allCases {
            let r = plan(hourly, p, last: t0 - 3600, now: t0 + 5)
            XCTAssertEqual(r.due, [.init(at: t0, catchUp: false)], "\(p)")
            XCTAssertEqual(r.dropped, 0)
            XCTAssertEqual(r.next, t0 + 3600)
        }
    }

    func testMissedFiresFollowThePolicy() {
        // Down from 05:30 to 10:20: 06:00 … 10:00 missed (5 fires), none on time.
        let now = t0 + 20 * 60
        let last = t0 - 5 * 3600
        XCTAssertEqual(plan(hourly, .skip, last: last, now: now).due, [])
        XCTAssertEqual(plan(hourly, .skip, last: last, now: now).dropped, 5)
        XCTAssertEqual(plan(hourly, .once, last: last, now: now).due, [.init(at: t0, catchUp: true)])
        XCTAssertEqual(plan(hourly, .once, last: last, now: now).dropped, 4)
        XCTAssertEqual(plan(hourly, .all, last: last, now: now).due.map(\.at), (0..<5).reversed().map { t0 - Int64($0) * 3600 })
        XCTAssertTrue(plan(hourly, .all, last: last, now: now).due.allSatisfy(\.catchUp))
    }

    func testAllKeepsTheNewestHundredAndCountsTheRest() {
        let every = try! Schedule("* * * * *")
        let r = plan(every, .all, last: t0 - 150 * 60, now: t0 + 30)
        XCTAssertEqual(r.due.count, 100)
        XCTAssertEqual(r.dropped, 50)
        XCTAssertEqual(r.due.last, .init(at: t0, catchUp: false))
        XCTAssertEqual(r.due.first?.at, t0 - 99 * 60)
    }

    func testANewJobHasMissedNothing() {
        XCTAssertEqual(plan(hourly, .all, last: nil, now: t0 + 20 * 60).due, [])
        XCTAssertEqual(plan(hourly, .all, last: nil, now: t0 + 5).due, [.init(at: t0, catchUp: false)])
    }

    func testEveryCountsTheGridFromTheLastFire() {
        let every = try! Schedule("@every 90s")
        XCTAssertEqual(plan(every, .once, last: t0, now: t0 + 60).due, [])
        XCTAssertEqual(plan(every, .once, last: t0, now: t0 + 60).next, t0 + 90)
        XCTAssertEqual(plan(every, .once, last: t0, now: t0 + 95).due, [.init(at: t0 + 90, catchUp: false)])
        let r = plan(every, .all, last: t0, now: t0 + 400)
        XCTAssertEqual(r.due.map(\.at), [t0 + 90, t0 + 180, t0 + 270, t0 + 360])
        XCTAssertEqual(r.due.map(\.catchUp), [true, true, true, false])
        XCTAssertEqual(plan(every, .skip, last: t0, now: t0 + 400).dropped, 3)
    }

    /// Issue 12: @every was anchored to each process's start, so two daemons (or one
    /// after a restart) fired at different times. The grid is the epoch's.
    func testEveryFiresOnTheEpochGridWhoeverAsks() {
        let every = try! Schedule("@every 7s")
        let now = t0 + 100  // not on the 7 s grid
        let grid = { (t: Int64) in t - t % 7 }
        XCTAssertEqual(plan(every, .once, last: nil, now: now).next, grid(now) + 7)
        XCTAssertEqual(plan(every, .once, last: nil, now: now + 3).next, grid(now + 3) + 7)
        XCTAssertEqual(every.fires(after: now, zone: .utc, count: 2), [grid(now) + 7, grid(now) + 14])
        XCTAssertEqual(every.fires(after: now + 1, zone: .utc, count: 1), every.fires(after: now + 2, zone: .utc, count: 1))
        // A new job: the grid point within the minute is on time, none was missed.
        XCTAssertEqual(plan(every, .all, last: nil, now: now).due, [.init(at: grid(now), catchUp: false)])
    }

    /// Issue 12: the daemon dropped a fire a few seconds old after a restart (a 2 s
    /// window) where tick ran it (60 s): one rule now, cron's minute.
    func testAFireUnderAMinuteLateIsOnTimeUnderEveryPolicy() {
        for p in [MisfirePolicy.skip, .once, .all] {
            XCTAssertEqual(plan(hourly, p, last: t0 - 3600, now: t0 + 30).due, [.init(at: t0, catchUp: false)], "\(p)")
            XCTAssertEqual(plan(hourly, p, last: nil, now: t0 + 59).due, [.init(at: t0, catchUp: false)], "\(p)")
        }
        XCTAssertEqual(plan(hourly, .skip, last: t0 - 3600, now: t0 + 60).due, [])
        XCTAssertEqual(plan(hourly, .once, last: t0 - 3600, now: t0 + 60).due, [.init(at: t0, catchUp: true)])
    }

    func testRebootHasNoTimedFires() {
        XCTAssertEqual(plan(try! Schedule("@reboot"), .all, last: nil, now: t0), MisfirePlan(due: [], dropped: 0, next: nil))
    }

    func testALongOutageIsDecidedQuickly() {
        let perSecond = try! Schedule("* * * * * *")
        let start = Date()
        let r = plan(perSecond, .once, last: t0 - 30 * 86_400, now: t0)
        XCTAssertEqual(r.due.count, 1)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }
}
