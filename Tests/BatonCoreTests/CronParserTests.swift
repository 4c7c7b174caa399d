import BatonCore
import XCTest

final class CronParserTests: XCTestCase {
    /// (expression, column, words the message must contain)
    let mistakes: [(String, Int, String)] = [
        ("61 * * * *", 1, "minute 61 is out of range 0-59"),
        ("* 24 * * *", 3, "hour 24 is out of range 0-23"),
        ("* * 0 * *", 5, "day-of-month 0 is out of range 1-31"),
        ("* * * 13 *", 7, "month 13 is out of range 1-12"),
        ("* * * * 8", 9, "day-of-week 8 is out of range 0-7"),
        ("* * * foo *", 7, "'foo' is not a valid month"),
        ("* * * * fri-mon", 9, "runs backwards"),
        ("*/0 * * * *", 3, "step '0'"),
        ("* * * * mon#6", 13, "'#6' is not a week of the month"),
        ("1,,2 * * * *", 3, "empty item"),
        ("* * * *", 7, "5 or 6 fields, not 4"),
        ("0 0 30 2 *", 5, "can never fire"),
        ("0 0 31 4,6 *", 5, "can never fire"),
        ("0 0 */20 * mon#5", 5, "can never fire"),
        ("0 0 31W 4 *", 5, "can never fire"),
        ("* * * * L", 9, "'L' alone"),
        ("* * L-2 * *", 5, "is not a day-of-month"),
        ("* * * * monday", 9, "is not a day-of-week name"),
    ]

    func testEveryMistakeIsLocatedAndHinted() {
        for (expr, column, words) in mistakes {
            do {
                _ = try CronExpression(expr)
                XCTFail("'\(expr)' was accepted")
            } catch {
                XCTAssertEqual(error.column, column, "column for '\(expr)': \(error.message)")
                XCTAssertTrue(error.message.contains(words), "'\(expr)': \(error.message)")
                XCTAssertNotNil(error.hint, "'\(expr)' has no hint")
            }
        }
    }

    func testAcceptsEveryFormOfTheSpec() throws {
        for expr in ["* * * * *", "*/10 * * * * *", "0 9 * * 1-5", "0 0 L * *", "0 0 LW * *", "0 0 15W * *",
                     "0 12 * * 5L", "0 9 * * MON#2", "0 9 * * mon#2,fri", "0 0 * JAN-mar sun", "5/15 * * * *",
                     "1-30/7 * * * *", "0 0 * * 7", "0 0 1,15 * *", "0\t0  *   * *"] {
            XCTAssertNoThrow(try CronExpression(expr), expr)
        }
        for macro in ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@reboot", "@every 1h30m", "@EVERY 90s"] {
            XCTAssertNoThrow(try Schedule(macro), macro)
        }
    }

    /// Issue 11: a range with a step keeps its range, even a range of one value, as in
    /// Debian cron and cronsim 2.9 (cronsim 2.8 read `a-a/n` as `a/n`; baton copied it).
    func testRangeWithStepKeepsItsRange() throws {
        let table: [(expr: String, from: String, expected: [String])] = [
            ("1-1/22 * * * *", "2026-01-01T00:00:00Z", ["2026-01-01T00:01:00+00:00", "2026-01-01T01:01:00+00:00"]),
            ("0 20-20/3 * * *", "2026-01-01T00:00:00Z", ["2026-01-01T20:00:00+00:00", "2026-01-02T20:00:00+00:00"]),
            ("0 0 1 8-8/3 *", "2026-01-01T00:00:00Z", ["2026-08-01T00:00:00+00:00", "2027-08-01T00:00:00+00:00"]),
            ("0 0 * * 5-5/2", "2026-01-01T00:00:00Z", ["2026-01-02T00:00:00+00:00", "2026-01-09T00:00:00+00:00"]),
            ("5-5/10 * * * * *", "2026-01-01T00:00:00Z", ["2026-01-01T00:00:05+00:00", "2026-01-01T00:01:05+00:00"]),
            ("0 0 3-3/7,20 * *", "2026-01-01T00:00:00Z", ["2026-01-03T00:00:00+00:00", "2026-01-20T00:00:00+00:00"]),
            ("0 0 1-10/4 * *", "2026-01-01T00:00:00Z", ["2026-01-05T00:00:00+00:00", "2026-01-09T00:00:00+00:00", "2026-02-01T00:00:00+00:00"]),
            // `a/n` without a range still runs to the field's end.
            ("0 0 1 8/3 *", "2026-01-01T00:00:00Z", ["2026-08-01T00:00:00+00:00", "2026-11-01T00:00:00+00:00"]),
        ]
        for row in table {
            XCTAssertEqual(try fires(row.expr, "UTC", from: row.from, count: row.expected.count), row.expected, row.expr)
        }
    }

    func testMacrosAndUnknownMacros() throws {
        XCTAssertEqual(try Schedule("@daily").description, "@daily")
        XCTAssertThrowsError(try Schedule("@dayly")) { e in
            XCTAssertEqual((e as? ExpressionError)?.hint, "did you mean '@daily'?")
        }
        XCTAssertThrowsError(try Schedule("@every 10"))
        XCTAssertThrowsError(try Schedule("@every 200ms"))
    }

    func testWallClockRuleFollowsMinuteAndHourFields() throws {
        XCTAssertTrue(try CronExpression("30 2 * * *").isWallClock)
        XCTAssertTrue(try CronExpression("0 0-23 * * *").isWallClock)
        XCTAssertFalse(try CronExpression("*/5 2 * * *").isWallClock)
        XCTAssertFalse(try CronExpression("0 30 2 * * *").isWallClock)
    }

    func testDurationsRoundTrip() throws {
        for (text, ms) in [("500ms", 500), ("30s", 30_000), ("5m", 300_000), ("2h", 7_200_000), ("1d", 86_400_000),
                           ("1h30m", 5_400_000), ("0s", 0), ("1d2h3m4s5ms", 93_784_005)] as [(String, Int64)] {
            let d = try DurationText.parse(text)
            XCTAssertEqual(DurationText.milliseconds(d), ms, text)
            XCTAssertEqual(try DurationText.parse(DurationText.format(d)), d, text)
        }
        for bad in ["", "5", "5x", "m", "1h 30m", "99999999999999999999s"] {
            XCTAssertThrowsError(try DurationText.parse(bad), bad)
        }
    }
}
