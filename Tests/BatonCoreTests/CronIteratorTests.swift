import BatonCore
import XCTest

/// Fire times in real zones, around both daylight-saving changes. Expected values are
/// Debian cron's rule as SPEC §2 states it (and as cronsim computes it).
final class CronIteratorTests: XCTestCase {
    struct Case { var expr: String; var zone: String; var from: String; var expected: [String]; var line: UInt = #line }

    let table: [Case] = [
        // The issue's own example: 02:30 does not exist on 2026-03-08 in New York.
        Case(expr: "30 2 * * *", zone: "America/New_York", from: "2026-03-07T12:00:00-05:00",
             expected: ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]),
        // Repeated hour in November: a wall-clock job fires once, the first time.
        Case(expr: "30 1 * * *", zone: "America/New_York", from: "2026-10-31T12:00:00-04:00",
             expected: ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]),
        // From the second pass of the repeated hour, the first pass is already past.
        Case(expr: "50 1 * * *", zone: "America/New_York", from: "2026-11-01T01:45:00-05:00",
             expected: ["2026-11-02T01:50:00-05:00"]),
        // Elapsed-time jobs fire in both passes of the repeated hour.
        Case(expr: "0 * * * *", zone: "America/New_York", from: "2026-11-01T00:30:00-04:00",
             expected: ["2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"]),
        // …and skip the hour that does not exist.
        Case(expr: "0 * * * *", zone: "America/New_York", from: "2026-03-08T00:30:00-05:00",
             expected: ["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00"]),
        // Lord Howe moves its clocks by 30 minutes.
        Case(expr: "15 2 * * *", zone: "Australia/Lord_Howe", from: "2026-10-03T12:00:00+10:30",
             expected: ["2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"]),
        Case(expr: "0 * * * *", zone: "Australia/Lord_Howe", from: "2026-10-04T00:30:00+10:30",
             expected: ["2026-10-04T01:00:00+10:30", "2026-10-04T03:00:00+11:00"]),
        // Southern hemisphere: Sydney falls back in April.
        Case(expr: "30 2 * * *", zone: "Australia/Sydney", from: "2026-04-04T12:00:00+11:00",
             expected: ["2026-04-05T02:30:00+11:00", "2026-04-06T02:30:00+10:00"]),
        // Chatham: +12:45 / +13:45, changes at 02:45 local.
        Case(expr: "0 3 * * *", zone: "Pacific/Chatham", from: "2026-09-26T12:00:00+12:45",
             expected: ["2026-09-27T03:45:00+13:45", "2026-09-28T03:00:00+13:45"]),
        // Kolkata: no DST, half-hour offset.
        Case(expr: "0 9 * * 1-5", zone: "Asia/Kolkata", from: "2026-11-27T10:00:00+05:30",
             expected: ["2026-11-30T09:00:00+05:30", "2026-12-01T09:00:00+05:30"]),
        // Havana changes at midnight: 00:00 does not exist on 2026-03-08.
        Case(expr: "0 0 * * *", zone: "America/Havana", from: "2026-03-07T12:00:00-05:00",
             expected: ["2026-03-08T01:00:00-04:00", "2026-03-09T00:00:00-04:00"]),
        // St. John's fell back at 00:01 in 2004: midnight of Oct 31 with fold 0 leads
        // back to Oct 30 (cronsim loops forever here); baton takes the second midnight.
        Case(expr: "57,33 * L * 1-4", zone: "America/St_Johns", from: "2004-10-30T16:51:38-02:30",
             expected: ["2004-10-31T00:33:00-03:30", "2004-10-31T00:57:00-03:30"]),
        // L, LW, nW, 5L, #.
        Case(expr: "0 0 L * *", zone: "UTC", from: "2026-01-15T00:00:00Z",
             expected: ["2026-01-31T00:00:00+00:00", "2026-02-28T00:00:00+00:00", "2026-03-31T00:00:00+00:00"]),
        Case(expr: "0 18 LW * *", zone: "UTC", from: "2026-05-01T00:00:00Z",
             expected: ["2026-05-29T18:00:00+00:00", "2026-06-30T18:00:00+00:00"]),
        // 2022-10-01 was a Saturday: 1W is Monday the 3rd (the month is not left).
        Case(expr: "0 9 1W * *", zone: "UTC", from: "2022-09-15T00:00:00Z",
             expected: ["2022-10-03T09:00:00+00:00", "2022-11-01T09:00:00+00:00"]),
        // 2026-05-31 is a Sunday: 31W is Friday the 29th; 15W on Sunday 2026-02-15 is Monday the 16th.
        Case(expr: "0 9 31W * *", zone: "UTC", from: "2026-05-01T00:00:00Z",
             expected: ["2026-05-29T09:00:00+00:00", "2026-07-31T09:00:00+00:00"]),
        Case(expr: "0 9 15W * *", zone: "UTC", from: "2026-02-01T00:00:00Z",
             expected: ["2026-02-16T09:00:00+00:00", "2026-03-16T09:00:00+00:00"]),
        Case(expr: "0 12 * * 5L", zone: "UTC", from: "2026-11-01T00:00:00Z",
             expected: ["2026-11-27T12:00:00+00:00", "2026-12-25T12:00:00+00:00"]),
        Case(expr: "0 9 * * MON#2", zone: "Europe/Berlin", from: "2026-11-01T00:00:00+01:00",
             expected: ["2026-11-09T09:00:00+01:00", "2026-12-14T09:00:00+01:00"]),
        // Vixie rule: both day fields restricted → either matches.
        Case(expr: "0 0 13 * 5", zone: "UTC", from: "2026-11-01T00:00:00Z",
             expected: ["2026-11-06T00:00:00+00:00", "2026-11-13T00:00:00+00:00", "2026-11-20T00:00:00+00:00"]),
        // …and `*/2` counts as unrestricted: a day must match both.
        Case(expr: "0 0 */2 * 5", zone: "UTC", from: "2026-11-01T00:00:00Z",
             expected: ["2026-11-13T00:00:00+00:00", "2026-11-27T00:00:00+00:00"]),
        // Six fields: seconds first; 7 is Sunday; names in any case.
        Case(expr: "*/20 * * * * *", zone: "UTC", from: "2026-01-01T00:00:05Z",
             expected: ["2026-01-01T00:00:20+00:00", "2026-01-01T00:00:40+00:00", "2026-01-01T00:01:00+00:00"]),
        Case(expr: "0 0 12 * jAn SuN", zone: "UTC", from: "2026-01-01T00:00:00Z",
             expected: ["2026-01-04T12:00:00+00:00", "2026-01-11T12:00:00+00:00"]),
        Case(expr: "0 0 * * 7", zone: "UTC", from: "2026-01-01T00:00:00Z", expected: ["2026-01-04T00:00:00+00:00"]),
        Case(expr: "5/20 * * * *", zone: "UTC", from: "2026-01-01T00:00:00Z",
             expected: ["2026-01-01T00:05:00+00:00", "2026-01-01T00:25:00+00:00", "2026-01-01T00:45:00+00:00"]),
        // Macros and @every.
        Case(expr: "@weekly", zone: "UTC", from: "2026-11-25T00:00:00Z", expected: ["2026-11-29T00:00:00+00:00"]),
        Case(expr: "@every 1h30m", zone: "UTC", from: "2026-11-25T00:00:00Z",
             expected: ["2026-11-25T01:30:00+00:00", "2026-11-25T03:00:00+00:00"]),
        // Rare but possible: Feb 29 on a Monday (AND rule via `*` in day-of-week… not here: OR).
        Case(expr: "0 0 29 2 *", zone: "UTC", from: "2026-01-01T00:00:00Z", expected: ["2028-02-29T00:00:00+00:00"]),
    ]

    func testFireTimesMatchTheTable() throws {
        for c in table {
            let got = try fires(c.expr, c.zone, from: c.from, count: c.expected.count)
            XCTAssertEqual(got, c.expected, "\(c.expr) in \(c.zone) from \(c.from)", line: c.line)
        }
    }

    func testFiresAreStrictlyAfterTheStartAndIncreasing() throws {
        let z = zone("America/New_York")
        for expr in ["30 1 * * *", "*/7 * * * *", "0 0-23 * * *", "* * * * * *"] {
            let from = instant("2026-11-01T01:30:00-05:00")
            let list = try Schedule(expr).fires(after: from, zone: z, count: 50)
            XCTAssertGreaterThan(list.first!, from, expr)
            XCTAssertEqual(list, list.sorted(), expr)
            XCTAssertEqual(Set(list).count, list.count, "\(expr) repeats an instant")
        }
    }

    func testRebootHasNoFireTimes() throws {
        XCTAssertEqual(try Schedule("@reboot").fires(after: 0, zone: .utc, count: 3), [])
    }
}
